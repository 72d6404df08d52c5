"""The contract's executable rules, beside :mod:`rkt_sdk.hookspecs`: stage0 applies them from here.

- which hooks a flavor must implement (:data:`REQUIRED_HOOKS`) and what its description
  must say (:func:`description_problem`);
- which interface versions stage0 drives (:func:`compatible`);
- which requests a flavor's capabilities refuse (:func:`unsupported`, and for isolators
  :func:`unenforced_isolators`), checked before anything is made for the pod;
- when a pod counts as **running** (:func:`is_running`) and what an exception from a hook
  means (:func:`hook_failure`).

**The failure rule.** A pod is *running* once its flavor has recorded one of its apps as
started (:meth:`PodDir.record_app_started`, the ``rkt/started/<app>`` file). Any exception
raised while a pod is started, before it is running (from stage0's own steps or from the
flavor's ``rkt_stage1_run``, of whatever class), makes stage0 undo the whole start: it calls
the flavor's ``rkt_stage1_gc``, tears down the pod's networks, unmounts what is left under
the pod directory and removes it. So a flavor raises what it raises; it need not clean up
more than ``rkt_stage1_gc`` would. An exception once the pod is running leaves an exited
pod for ``rkt gc``, with what its apps recorded.

Every hook call is the flavor's own calling convention (pluggy's): arguments by name, the
first non-None result of a ``firstresult`` hook. An :class:`~rkt_sdk.errors.RktError` from a
hook is a message for the user as it stands; any other exception is the flavor failing, and
the user sees one line naming the flavor and the error (:func:`hook_failure`).
"""

from __future__ import annotations

from pathlib import Path

from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION
from rkt_sdk.errors import FlavorError, RktError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from rkt_sdk.appc import PodManifest
    from rkt_sdk.types import Capabilities

#: hooks every flavor implements; the others in :mod:`rkt_sdk.hookspecs` are optional
REQUIRED_HOOKS = ("rkt_stage1_describe", "rkt_stage1_host_check", "rkt_stage1_run",
                  "rkt_stage1_stop", "rkt_stage1_gc")


def compatible(interface_version: object) -> bool:
    """Whether stage0 drives a flavor declaring ``interface_version``."""
    iv = interface_version
    return isinstance(iv, int) and not isinstance(iv, bool) and MIN_INTERFACE_VERSION <= iv <= INTERFACE_VERSION


def description_problem(info: object, entry_name: str) -> str | None:
    """What is wrong with a flavor's ``rkt_stage1_describe`` answer, or ``None``.

    An incompatible interface version is not reported here: see :func:`compatible`.
    """
    from rkt_sdk.types import Capabilities, FlavorInfo

    if not isinstance(info, FlavorInfo):
        return f"rkt_stage1_describe returned {type(info).__name__}, not rkt_sdk.FlavorInfo"
    if info.name != entry_name:
        return f"rkt_stage1_describe names it {info.name!r}, not {entry_name!r} (its entry point's name)"
    if compatible(info.interface_version) and not isinstance(info.capabilities, Capabilities):
        return "rkt_stage1_describe gave capabilities that are not rkt_sdk.Capabilities"
    return None


def unsupported(flavor: str, caps: Capabilities, *, net_mode: str | None, app_count: int) -> str | None:
    """Why the flavor's capabilities refuse a pod of ``app_count`` apps on ``net_mode``, or ``None``.

    ``net_mode`` is ``"host"``, ``"none"`` or ``"contained"``, or ``None`` when not known yet
    (``rkt prepare``).
    """
    if app_count > 1 and not caps.multi_app:
        return f"the {flavor} flavor runs one app per pod, and {app_count} were given"
    if net_mode is not None and net_mode not in caps.network_modes:
        flag = "default" if net_mode == "contained" else net_mode
        mode = "a contained network" if net_mode == "contained" else net_mode
        return (f"--net={flag}: the {flavor} flavor does not support {mode} "
                f"(it supports: {', '.join(sorted(caps.network_modes))})")
    return None


def unenforced_isolators(flavor: str, claimed: Collection[str], manifest: PodManifest,
                         image_isolators: Mapping[str, Collection[object]]) -> tuple[str | None, list[str]]:
    """Isolators of the pod the flavor does not claim: ``(refusal or None, warnings)``.

    An isolator a flag or the pod manifest asked for is refused; one the app's image brought
    unchanged (the same ``{"name", "value"}`` as in ``image_isolators[app]``) is a warning, and
    the pod runs without it, as rkt ignored image isolators its stage1 did not know. The
    rule as flavor authors read it: :mod:`rkt_sdk.isolators`.
    """
    from rkt_sdk.isolators import described

    for iso in manifest.isolators:
        if iso.name not in claimed:
            return f"pod manifest: the {flavor} flavor does not enforce {described(iso.name)}", []
    warnings: list[str] = []
    for app in manifest.apps:
        from_image = image_isolators.get(app.name, ())
        for iso in app.app.isolators:
            if iso.name in claimed:
                continue
            if iso.to_dict() in from_image:
                warnings.append(f"app {app.name!r}: the {flavor} flavor does not enforce {described(iso.name)} "
                                "from its image; running without it")
                continue
            return (f"{described(iso.name)}: the {flavor} flavor does not enforce it "
                    f"(it enforces: {', '.join(sorted(claimed)) or 'no isolators'})"), warnings
    return None, warnings


def is_running(pod_path: Path) -> bool:
    """Whether the pod is running in the sense of the failure rule (an app recorded as started)."""
    from rkt_sdk.poddir import PodDir

    return PodDir(pod_path).any_app_started()


def hook_failure(flavor: str, exc: BaseException) -> BaseException:
    """What the user is told when a hook of ``flavor`` raised ``exc``.

    An :class:`~rkt_sdk.errors.RktError` stands as it is; so do exceptions that are not
    errors (``KeyboardInterrupt``, ``SystemExit``). Anything else becomes a
    :class:`~rkt_sdk.errors.FlavorError` naming the flavor: an ``OSError`` by its message
    (and file), another exception by its class and message.
    """
    if isinstance(exc, RktError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, OSError) and exc.strerror:
        why = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        why = f"{type(exc).__name__}: {exc}"
    return FlavorError(f"the {flavor} flavor failed: {why}")
