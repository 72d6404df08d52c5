"""Run a pod's VM as a QEMU child of the pod process, and clean up after it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from rkt_sdk.linux.ns import set_pdeathsig
from rkt_sdk.poddir import PodDir
from rkt_sdk.types import Pod, RunOptions
from rkt_sdk.vm.errors import GuestError, VMError
from rkt_sdk.vm.podvm import prepare_vm
from rkt_sdk.vm.qemu import ChardevFds, qemu_argv
from rkt_sdk.vm.record import cleanup_stage1_data, read_record, write_record
from rkt_sdk.vm.sandbox import make_supervisor
from rkt_sdk.vm.settings import VMSettings
from rkt_sdk.vm.supervisor import GuestChannels


def _die_with_parent() -> None:
    """In the QEMU child: be killed when the pod process dies (no VM outlives its supervisor)."""
    set_pdeathsig(signal.SIGKILL)


class QemuVM:
    """A QEMU child process as a :class:`rkt_sdk.vm.supervisor.VMHandle`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._pidfd = os.pidfd_open(proc.pid)

    def ended_fd(self) -> int:
        return self._pidfd

    def force_off(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def finish(self) -> None:
        self.force_off()
        self.proc.wait()
        os.close(self._pidfd)


def run_pod(pod: Pod, options: RunOptions) -> int:
    """Boot the pod's VM under QEMU and follow it until it powers off; the pod's exit code."""
    vs = VMSettings.from_mapping(options.settings, "microvm")
    prep = prepare_vm(pod, options, "qemu", vs)
    pd = PodDir(pod.path)
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(4)]
    host = [p[0] for p in pairs]
    guest = [p[1] for p in pairs]
    fds = ChardevFds(guest[0].fileno(), guest[1].fileno(), guest[2].fileno(), guest[3].fileno())
    argv = qemu_argv(vs.qemu_binary, prep.spec, fds)
    log_path = pd.make_stage1_data() / "qemu.log"
    keep = [g.fileno() for g in guest] + ([pod.lock_fd] if pod.lock_fd >= 0 else [])
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=keep,
                                    start_new_session=True, preexec_fn=_die_with_parent)
    except OSError as e:
        for s in host + guest:
            s.close()
        raise VMError(f"cannot start {vs.qemu_binary}: {e.strerror}") from None
    for g in guest:
        g.close()
    pd.write_pid(proc.pid)
    write_record(pod.path, {"vm": prep.spec.name, "accel": prep.spec.accel, "machine": prep.spec.machine,
                            "memoryMiB": prep.spec.memory_mib, "vcpus": prep.spec.vcpus, "qemuPid": proc.pid,
                            "kernel": str(prep.spec.kernel)})
    vm = QemuVM(proc)
    sup = make_supervisor(pod, GuestChannels(*host), vm, stop_timeout=options.stop_timeout,
                          boot_timeout=vs.boot_timeout, debug=options.debug)
    try:
        return sup.run()
    except GuestError as e:
        tail = _qemu_log_tail(log_path)
        if tail:
            raise GuestError(f"{e}; qemu: {tail}") from None
        raise
    finally:
        for s in host:
            s.close()


def _qemu_log_tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _is_our_qemu(pid: int, uuid: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(f"rkt-{uuid}".encode() in a for a in cmdline) and any(b"qemu" in a for a in cmdline[:1])


def kill_qemu(pod_path: Path, uuid: str) -> None:
    """Kill the pod's QEMU process, if it still runs (checked by its command line, not just its pid)."""
    rec = read_record(pod_path)
    pid = rec.get("qemuPid") or PodDir(pod_path).read_pid()
    if isinstance(pid, int) and pid > 0 and _is_our_qemu(pid, uuid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cleanup(pod_path: Path, uuid: str) -> None:
    """Garbage-collect: no QEMU process, socket or temporary file of the pod left."""
    kill_qemu(pod_path, uuid)
    cleanup_stage1_data(pod_path)
