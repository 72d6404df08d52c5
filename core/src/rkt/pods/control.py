"""Acting on a running pod through its flavor: ``stop`` and ``enter``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rkt.paths import DataDir, Environment
from rkt.pods.layout import PodRef, find_pod
from rkt_sdk.errors import PodDirError, RktError
from rkt_sdk.poddir import PodDir
from rkt_sdk.types import EnterOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.stage1.loader import Flavor


def _flavor(ref: PodRef, env: Environment) -> Flavor:
    from rkt.stage1.loader import load_flavor

    return load_flavor(PodDir(ref.path).read_stage1().name, env.data.cache)


def stop_pod(ref: PodRef, env: Environment, *, force: bool, timeout: float | None = None) -> None:
    """Ask the pod's flavor to stop it (SIGTERM then SIGKILL, or SIGKILL with ``force``).

    ``timeout`` (``rkt stop --timeout``) replaces the pod's recorded stop timeout first, so the
    hook's argument and what a supervisor reads from the pod directory are one value.
    """
    flavor = _flavor(ref, env)
    pd = PodDir(ref.path)
    if timeout is not None:
        pd.write_stop_timeout(timeout)
    flavor.hook.rkt_stage1_stop(pod=pd.read_pod(ref.uuid), force=force, timeout=pd.read_stop_timeout(),
                                settings=flavor.settings(env.config_dirs))


def flavor_status(path: Path, uuid: str, data: DataDir, config_dirs: tuple[Path, ...]) -> dict[str, Any]:
    """The flavor's ``rkt_stage1_status`` fields for the pod (``{}`` when it records no status hook).

    :raises Exception: whatever loading the flavor or its hook raised (callers decide if it is fatal).
    """
    from rkt.stage1.loader import load_flavor

    pd = PodDir(path)
    try:
        rec = pd.read_stage1()
    except PodDirError:
        return {}
    if not rec.status_hook:
        return {}
    flavor = load_flavor(rec.name, data.cache)
    extras = flavor.hook.rkt_stage1_status(pod=pd.read_pod(uuid), settings=flavor.settings(config_dirs))
    return dict(extras or {})


def reported_running(ref: PodRef, data: DataDir, config_dirs: tuple[Path, ...]) -> bool:
    """Whether a pod of ``run`` whose lock is free still has apps running, as its flavor reports.

    A runtime outside the rkt process keeps apps alive after that process was killed; its flavor
    says so with ``"running": True`` in its status fields. A flavor that fails to answer: not running.
    """
    if ref.dir_state != "run":
        return False
    try:
        return flavor_status(ref.path, ref.uuid, data, config_dirs).get("running") is True
    except Exception:  # a broken flavor cannot keep a pod alive
        return False


def enter_pod(uuid: str, app: str, command: tuple[str, ...], env: Environment) -> int:
    """Run ``command`` in an app of a running pod through its flavor."""
    import sys

    ref = find_pod(env.data, uuid)
    if ref.state() != "running":
        raise RktError(f'pod "{ref.uuid}" is not running (state: {ref.state()})')
    pod = PodDir(ref.path).read_pod(ref.uuid)
    if not app:
        if len(pod.apps) != 1:
            names = ", ".join(a.name for a in pod.apps)
            raise RktError(f"pod has several apps ({names}); choose one with --app")
        app = pod.apps[0].name
    elif pod.app(app) is None:
        raise RktError(f'pod "{ref.uuid}" has no app "{app}"')
    flavor = _flavor(ref, env)
    if not flavor.info.capabilities.enter or not flavor.implements("rkt_stage1_enter"):
        raise RktError(f"the {flavor.name} flavor does not support enter")
    opts = EnterOptions(app=app, command=command, interactive=sys.stdin.isatty(),
                        settings=flavor.settings(env.config_dirs))
    return int(flavor.hook.rkt_stage1_enter(pod=pod, options=opts) or 0)
