"""The coreos flavor's app hooks for mutable pods: requests to the sandbox's supervisor.

``add`` checks the app here (its plan: user, capabilities, seccomp, limits) so bad input
fails before the pod manifest names it; ``start``, ``stop``, ``rm`` and ``attach`` are served
by the supervisor (:mod:`rkt_stage1_coreos.sandbox`) over the pod's control socket. The
plan's module is imported only by the hooks that use it: ``start`` and ``stop`` send one line.
"""

from __future__ import annotations

from rkt_sdk.errors import FlavorError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt_sdk.types import AppOptions, AttachOptions, Pod, PodApp


def add(pod: Pod, app: PodApp, options: AppOptions) -> None:
    """Check that the app can run in this pod, and have the supervisor prepare its start."""
    from rkt_stage1_coreos.plan import app_plan, load_run_record

    insecure = frozenset(load_run_record(pod.path).get("insecureOptions", ()))
    app_plan(pod, app, insecure, options.settings, check=True)
    from rkt_stage1_coreos import control

    # once this command has exited (the manifest names the app then), the supervisor sets up the app's
    # child, while 'rkt app start' starts; that start then only lets it exec
    control.notify_at_exit(pod.path, pod.uuid, {"op": "prepare", "app": app.name})


def start(pod: Pod, app: str) -> None:
    from rkt_stage1_coreos import control

    control.request(pod.path, pod.uuid, {"op": "start", "app": app})


def stop(pod: Pod, app: str, force: bool, timeout: float) -> int | None:
    from rkt_stage1_coreos import control

    answer = control.request(pod.path, pod.uuid, {"op": "stop", "app": app, "force": force, "timeout": timeout},
                             timeout=None)
    code = answer.get("exit")
    return code if isinstance(code, int) else None


def rm(pod: Pod, app: str, options: AppOptions) -> None:
    """Have the supervisor forget the app (killing it if it runs); its cgroup goes either way."""
    from rkt_stage1_coreos import control

    try:
        control.request(pod.path, pod.uuid, {"op": "rm", "app": app}, timeout=None)
    except FlavorError:
        pass  # no supervisor: nothing of the app runs
    from rkt_sdk.linux.cgroups import detect
    from rkt_stage1_coreos.lifecycle import recorded_cgroup
    from rkt_stage1_coreos.plan import app_cgroup

    detect(controllers=None).remove(app_cgroup(recorded_cgroup(pod.path, pod.uuid, options.settings), app))


def reopen_log(pod: Pod, app: str) -> None:
    from rkt_stage1_coreos import control

    control.request(pod.path, pod.uuid, {"op": "reopen", "app": app})


def status(pod: Pod, app: str) -> dict[str, Any]:
    from rkt_stage1_coreos.lifecycle import recorded_cgroup
    from rkt_stage1_coreos.plan import app_cgroup

    return {"cgroup": app_cgroup(recorded_cgroup(pod.path, pod.uuid, {}), app)}


def attach(pod: Pod, app: str, options: AttachOptions) -> int:
    """Attach the caller's stdio to the app's streams (see :mod:`rkt_sdk.attach`)."""
    import json

    from rkt_sdk.attach import session
    from rkt_stage1_coreos import control

    sock = control.connect(pod.path, pod.uuid)
    try:
        control.send(sock, {"op": "attach", "app": app})
        answer = json.loads(control.read_line(sock) or b"{}")
        if "error" in answer or not answer.get("ok"):
            raise FlavorError(str(answer.get("error", "the supervisor refused to attach")))
        return session(sock, stdin=options.stdin, tty=bool(answer.get("tty")), detach_keys=options.detach_keys)
    finally:
        sock.close()
