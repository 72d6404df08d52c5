"""Acting on a running pod through its flavor: ``stop`` and ``enter``."""

from __future__ import annotations

import json

from rkt.launch import Environment
from rkt.pods.layout import PodRef, find_pod
from rkt.pods.run import load_pod
from rkt_sdk.errors import RktError
from rkt_sdk.types import EnterOptions


def _flavor(ref: PodRef, env: Environment):  # type: ignore[no-untyped-def]
    from rkt.stage1.loader import load_flavor

    try:
        rec = json.loads((ref.path / "stage1").read_text())
    except (OSError, ValueError):
        raise RktError(f'pod "{ref.uuid}" does not record its stage1 flavor') from None
    return load_flavor(rec["name"], env.data.cache)


def stop_pod(ref: PodRef, env: Environment, *, force: bool, timeout: float) -> None:
    """Ask the pod's flavor to stop it (SIGTERM then SIGKILL, or SIGKILL with ``force``)."""
    flavor = _flavor(ref, env)
    flavor.hook.rkt_stage1_stop(pod=load_pod(ref.path, ref.uuid), force=force, timeout=timeout)


def enter_pod(uuid: str, app: str, command: tuple[str, ...], env: Environment) -> int:
    """Run ``command`` in an app of a running pod through its flavor."""
    import sys

    ref = find_pod(env.data, uuid)
    if ref.state() != "running":
        raise RktError(f'pod "{ref.uuid}" is not running (state: {ref.state()})')
    pod = load_pod(ref.path, ref.uuid)
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
