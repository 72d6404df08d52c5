"""The app hooks of VM flavors for mutable pods (``rkt app add|start|stop|rm|reopen-log``).

They run in the ``rkt app`` processes. ``add`` checks the app (what a VM cannot give it is
refused naming the flag) and writes its guest script to ``apps/<key>.sh`` of the pod's exchange
share; the others ask the sandbox's supervisor (:mod:`rkt_sdk.vm.sandbox`) over its socket and
wait for its answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rkt_sdk.appio import io_modes
from rkt_sdk.errors import FlavorError
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.types import Pod, PodApp

#: the modes a VM flavor gives an app's stdout and stderr (no attach: no stream, no terminal)
VM_OUTPUT_MODES = ("log", "null")


def _script(pod: Pod, app: PodApp) -> Path:
    from rkt_sdk.vm.guest import app_key

    return PodDir(pod.path).stage1_data / "xchg" / "apps" / f"{app_key(app.name)}.sh"


def check_app(pod: Pod, app: PodApp) -> None:
    """Refuse what an app added to a VM sandbox cannot have, naming the flag."""
    stdin, stdout, stderr = io_modes(app.runtime)
    if stdin != "null":
        raise FlavorError(f"--stdin={stdin}: VM flavors give apps of a sandbox no input (rkt attach is not "
                          "supported by VM flavors)")
    for flag, mode in (("--stdout", stdout), ("--stderr", stderr)):
        if mode not in VM_OUTPUT_MODES:
            raise FlavorError(f"{flag}={mode}: VM flavors support {' and '.join(VM_OUTPUT_MODES)} for the apps "
                              "of a sandbox (rkt attach is not supported by VM flavors)")
    from rkt_sdk.vm.guest import SANDBOX_VOLUMES

    try:
        shared = (PodDir(pod.path).stage1_data / "xchg" / SANDBOX_VOLUMES).read_text().split()
    except FileNotFoundError:
        shared = []
    for m in app.runtime.mounts:
        if m.volume not in shared:
            raise FlavorError(f"app {app.name!r}: volume {m.volume!r} was not a volume of the sandbox when its VM "
                              "booted (9p shares are fixed then: give the sandbox the volume with --volume, "
                              "and the app --mount)")


def add(pod: Pod, app: PodApp) -> None:
    """Check the app and write its guest script (nothing runs yet)."""
    from rkt_sdk.resolved import resolve_app
    from rkt_sdk.stopsignal import stop_signal
    from rkt_sdk.vm.guest import GuestApp, GuestFile, GuestMount, app_key, guest_files, render_app_script

    check_app(pod, app)
    a = resolve_app(pod, app)
    files = guest_files(PodDir(pod.path))
    guest = GuestApp(app_key(app.name), app.name, "", "cache=mmap" + (",ro" if a.read_only_rootfs else ""),
                     a.argv, tuple(f"{k}={v}" for k, v in a.env.items()), a.creds.uid, a.creds.gid, a.cwd,
                     tuple(GuestMount(m.volume.name, m.target, m.read_only) for m in a.mounts),
                     tuple(GuestFile(src, "/" + src) for src in sorted(files)), a.creds.groups,
                     stop_signal(app.runtime).name.removeprefix("SIG"))
    path = _script(pod, app)
    if not path.parent.is_dir():
        raise FlavorError(f"pod {pod.uuid}: not a sandbox VM (no {path.parent.name}/ in its exchange directory)")
    write_atomic(path, render_app_script(guest))


def request(pod: Pod, msg: dict[str, Any], timeout: float | None = 30.0) -> dict[str, Any]:
    """Send ``msg`` to the pod's supervisor and return its answer.

    :raises FlavorError: the supervisor refused, or did not answer within ``timeout`` seconds.
    :raises SupervisorUnreachable: nobody answers for the pod.
    """
    from rkt_sdk.vm.client import SupervisorClient

    c = SupervisorClient(pod.path)
    try:
        c.send(msg)
        answer = c.receive(timeout)
    finally:
        c.close()
    if answer is None:
        raise FlavorError(f"{msg.get('op')} {msg.get('app')}: the pod's supervisor did not answer")
    if answer.get("ev") != "ok":
        raise FlavorError(str(answer.get("msg", f"{msg.get('op')}: refused")))
    return answer


def start(pod: Pod, app: str) -> None:
    pa = next((a for a in pod.apps if a.name == app), None)
    _stdin, stdout, stderr = io_modes(pa.runtime) if pa is not None else ("null", "log", "log")
    request(pod, {"op": "app-start", "app": app, "stdout": stdout, "stderr": stderr})


def stop(pod: Pod, app: str, force: bool, timeout: float) -> int | None:
    answer = request(pod, {"op": "app-stop", "app": app, "force": force, "timeout": timeout},
                     timeout=None if force else timeout + 30.0)
    code = answer.get("exit")
    return code if isinstance(code, int) else None


def rm(pod: Pod, app: str) -> None:
    """Have the guest kill the app and unmount its root (if the pod runs); forget its script."""
    from rkt_sdk.vm.client import SupervisorUnreachable
    from rkt_sdk.vm.guest import app_key

    try:
        request(pod, {"op": "app-rm", "app": app})
    except (SupervisorUnreachable, FlavorError):
        pass  # no supervisor, or the pod is ending: nothing of the app runs
    script = PodDir(pod.path).stage1_data / "xchg" / "apps" / f"{app_key(app)}.sh"
    try:
        script.unlink()
    except FileNotFoundError:
        pass


def reopen_log(pod: Pod, app: str) -> None:
    request(pod, {"op": "app-reopen", "app": app})
