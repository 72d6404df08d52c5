"""``enter``, ``stop``, ``gc`` and ``status`` for pods of the coreos flavor.

``enter`` joins the app's cgroup and namespaces and then takes exactly the app's
credentials, capabilities, no_new_privs and seccomp filter (rkt's CVE-2019-10144 lesson:
an entered command is no more privileged than the app).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from rkt_sdk.errors import FlavorError
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.record import replace
from rkt_stage1_coreos.plan import app_cgroup, app_plan, load_run_record, pod_cgroup, run_record_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rkt_sdk.types import EnterOptions, Pod


def _nspid(pid: int) -> int | None:
    """The innermost pid of host process ``pid`` (its pid inside the pod)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def app_host_pid(pod: Pod, app: str, settings: Mapping[str, Any]) -> int:
    """The host pid of an app's main process (found through the app's cgroup).

    :raises FlavorError: the app is not running.
    """
    from rkt_sdk.linux.cgroups import detect
    from rkt_stage1_coreos.supervisor import app_pid_file

    try:
        inner = int(Path(app_pid_file(pod.path, app)).read_text())
    except (OSError, ValueError):
        raise FlavorError(f"app {app!r} of pod {pod.uuid} has not started") from None
    procs = detect().procs(app_cgroup(recorded_cgroup(pod.path, pod.uuid, settings), app))
    for pid in procs:
        if _nspid(pid) == inner:
            return pid
    raise FlavorError(f"app {app!r} of pod {pod.uuid} is not running")


def enter(pod: Pod, options: EnterOptions) -> int:
    """Run ``options.command`` in the app's context; return its exit code."""
    from rkt_sdk.linux import ns
    from rkt_sdk.linux.cgroups import detect
    from rkt_stage1_coreos import launch

    pa = pod.app(options.app)
    if pa is None:
        raise FlavorError(f"pod {pod.uuid} has no app {options.app!r}")
    settings = options.settings
    record = load_run_record(pod.path)
    insecure = frozenset(record.get("insecureOptions", ()))
    plan = app_plan(pod, pa, insecure, settings, options.interactive)
    plan = replace(plan, cgroup=app_cgroup(recorded_cgroup(pod.path, pod.uuid, settings), pa.name))
    host_pid = app_host_pid(pod, pa.name, settings)
    cg = detect()
    argv = tuple(options.command) or ("/bin/sh",)
    own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        ns.enter_namespaces(host_pid, ("pid",))
        pid = os.fork()
        if pid == 0:
            try:
                ns.set_dumpable(False)
                launch.reset_signals()
                cg.attach(plan.cgroup)
                ns.enter_namespaces(host_pid, ("ipc", "uts", "net", "cgroup", "mnt"))
                os.chdir(plan.cwd if os.path.isdir(plan.cwd) else "/")
                launch.close_fds()
                launch.drop_privileges(plan)
                launch.exec_app(argv, plan.env)
            except FileNotFoundError as e:
                os.write(2, f"enter: {e.filename or argv[0]}: {e.strerror}\n".encode())
                os._exit(127)
            except BaseException as e:
                os.write(2, f"enter: {e}\n".encode())
            os._exit(254)
    finally:
        try:
            ns.setns(own_pidns, ns.CLONE_NEWPID)
        finally:
            os.close(own_pidns)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, old)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def stop(pod: Pod, force: bool, timeout: float) -> None:
    """Ask the supervisor to stop the apps (SIGTERM, SIGKILL after ``timeout``); ``force`` kills at once."""
    pid = PodDir(pod.path).read_pid()
    if pid is None:
        raise FlavorError(f"pod {pod.uuid} has no recorded supervisor")
    if not force:
        record = load_run_record(pod.path)
        record["stopTimeout"] = timeout
        import json

        write_atomic(run_record_path(pod.path), json.dumps(record))
    try:
        # killing PID 1 of the pod's PID namespace kills every process in it
        os.kill(pid, signal.SIGKILL if force else signal.SIGTERM)
    except ProcessLookupError:
        pass


def gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    """Remove the pod's cgroups; the pod's mounts lived in its own namespaces and went with them."""
    from rkt_sdk.linux.cgroups import CgroupError, detect

    try:
        cg = detect(controllers=None)  # every hierarchy: whatever held the pod's cgroups
    except CgroupError:
        return
    cg.remove(recorded_cgroup(pod_path, uuid, settings))


def status(pod: Pod) -> dict[str, Any]:
    """Extra status: the pod's cgroup."""
    return {"cgroup": recorded_cgroup(pod.path, pod.uuid, {})}


def recorded_cgroup(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> str:
    """The pod's cgroup as recorded at run (settings may have changed since), else from ``settings``."""
    cg = load_run_record(pod_path).get("cgroup")
    return cg if isinstance(cg, str) and cg else pod_cgroup(uuid, settings)
