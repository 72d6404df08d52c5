"""The supervisor: PID 1 of the pod's PID namespace.

It runs in a child of the stage0 process (no new interpreter), in the pod's new UTS, IPC
(and network) namespaces. It mounts nothing, so it stays in the host's mount namespace
and each app's child makes its own (one copy of the host's mounts per app, not two). It
is not dumpable, so no app can open its /proc files (its ``exe`` is the host's
interpreter, its ``root`` the host's root). It starts each app in its own child, reaps
every process of the pod, turns SIGTERM/SIGINT/SIGHUP into a graceful stop of the apps
(SIGKILL after the grace period), stops the siblings of the first app that fails,
records starts and exits, and exits with the pod's code.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rkt_sdk.linux import ns
from rkt_sdk.linux.cgroups import Cgroups
from rkt_sdk.linux.mount import MS_REC, MS_SLAVE, mount
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_stage1_coreos import launch, rootfs
from rkt_stage1_coreos.plan import AppPlan, PodPlan, load_run_record, supervisor_cgroup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

#: exit code of an app that could not be started (rkt's own failure code)
START_FAILED = 254
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_WAITED = {signal.SIGCHLD, *STOP_SIGNALS}


def _say(msg: str) -> None:
    try:
        os.write(2, f"rkt: {msg}\n".encode())
    except OSError:
        pass


def app_pid_file(pod_path: str | os.PathLike[str], app: str) -> str:
    """Where the supervisor records an app's pid (as seen in the pod's PID namespace)."""
    return os.path.join(pod_path, "stage1-data", "apps", app)


def _app_child(plan: PodPlan, app: AppPlan, cg: Cgroups | None, errfd: int, go: int = -1) -> NoReturn:
    """In the app's child: isolate, mount, pivot, drop privileges, exec. Never returns.

    With ``go``, the child set up ahead of its start waits as the app's user, before its
    seccomp filter goes on and its exec: one byte lets it go on; end of file (its start was
    called off) ends it quietly.
    """
    try:
        launch.reset_signals()
        if plan.interactive:
            launch.take_terminal()
        if cg is not None:
            cg.attach(app.cgroup)
        if app.oom_score_adj is not None:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(f"{app.oom_score_adj}\n")
        ns.unshare(ns.CLONE_NEWNS | (ns.CLONE_NEWCGROUP if cg is not None else 0))
        # a copy of the host's mounts: nothing done below may propagate back
        mount(None, "/", None, MS_REC | MS_SLAVE)
        rootfs.prepare(app, cg)
        ns.pivot_root(app.rootfs)
        rootfs.finish(app)
        try:
            os.chdir(app.cwd)
        except OSError as e:
            raise OSError(e.errno, f"working directory {app.cwd}: {e.strerror}") from None
        launch.close_fds(errfd, go)
        launch.drop_privileges(app, (lambda: _wait_for_start(go)) if go >= 0 else None)
        launch.exec_app(app.argv, app.env)
    except BaseException as e:
        msg = f"app {app.name!r}: {e.strerror if isinstance(e, OSError) and e.filename is None and e.strerror else e}"
        if isinstance(e, OSError) and e.filename is not None:
            msg = f"app {app.name!r}: {e.filename}: {e.strerror}"
        try:
            os.write(errfd, msg.encode())
        except OSError:
            pass
    os._exit(START_FAILED)


def _wait_for_start(go: int) -> None:
    if not os.read(go, 1):
        os._exit(START_FAILED)


class Supervisor:
    """The pod's PID 1: start apps, reap, stop, record."""

    def __init__(self, plan: PodPlan, cg: Cgroups | None) -> None:
        self.plan = plan
        self.cg = cg
        self.pd = PodDir(plan.path)
        self.running: dict[int, AppPlan] = {}
        self.code: int | None = None
        self.deadline: float | None = None

    def start(self, app: AppPlan) -> None:
        """Start one app; a failure to start is recorded as its exit with code 254."""
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _app_child(self.plan, app, self.cg, w)
        os.close(w)
        self.pd.record_app_started(app.name)  # while the child makes the app's mounts
        chunks = []
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        if chunks:
            _say(b"".join(chunks).decode(errors="replace"))
        write_atomic(self._pidfile(app.name), f"{pid}\n")
        self.running[pid] = app

    def _pidfile(self, app: str) -> Path:
        p = Path(app_pid_file(self.plan.path, app))
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def stop(self) -> None:
        """Ask every process of the pod to end (SIGTERM, or an app's own stop signal), and arm the SIGKILL deadline."""
        if self.deadline is not None:
            return
        timeout = load_run_record(self.plan.path).get("stopTimeout", self.plan.stop_timeout)
        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            timeout = self.plan.stop_timeout
        self.deadline = time.monotonic() + max(timeout, 0.0)
        if all(app.stop_signal == signal.SIGTERM for app in self.running.values()):
            targets = {-1: int(signal.SIGTERM)}
        else:  # an app whose image names its stop signal gets that one (its children: SIGKILL at the deadline)
            targets = {pid: app.stop_signal for pid, app in self.running.items()}
        for pid, sig in targets.items():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        """Collect every exited child; record apps' exits; stop the pod on the first failure."""
        for pid, status in exited_children():
            app = self.running.pop(pid, None)
            if app is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = 128 - code
            self.pd.record_app_exited(app.name, code)
            if code != 0 and self.code is None:
                self.code = code
                self.stop()

    def loop(self) -> int:
        """Wait for signals until every app has exited; return the pod's exit code."""
        while self.running:
            timeout = None if self.deadline is None else self.deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                timeout = None
            info = signal.sigtimedwait(_WAITED, timeout) if timeout is not None else signal.sigwaitinfo(_WAITED)
            if info is not None and info.si_signo in STOP_SIGNALS:
                self.stop()
            self.reap()
        # leftovers (daemons the apps left behind) die with the pod
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                if os.waitpid(-1, 0)[0] == 0:
                    break
            except ChildProcessError:
                break
        return self.code or 0


def _lo_up() -> None:
    """Bring the loopback interface up in a network namespace this flavor made."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sH", b"lo", 0x1 | 0x8 | 0x40)  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(s.fileno(), 0x8914, ifr)  # SIOCSIFFLAGS


def run_supervisor(plan: PodPlan, cg: Cgroups | None, netns: str | None, new_net: bool, go_r: int,
                   status_w: int, make: Callable[[PodPlan, Cgroups | None], Supervisor] | None = None) -> NoReturn:
    """Body of the supervisor process (just forked into the pod's new PID namespace).

    Makes the pod's namespaces, then waits on ``go_r`` until stage0 has made the cgroups and
    written the pid file (end of file instead: exits at once), starts the apps, writes ``ok``
    (or an error message) to ``status_w`` and supervises. Never returns. ``make`` builds the
    supervisor (a mutable pod's :class:`~rkt_stage1_coreos.sandbox.Sandbox`); default :class:`Supervisor`.
    """
    code = START_FAILED
    try:
        for sig in _WAITED:
            signal.signal(sig, lambda *_: None)
        signal.pthread_sigmask(signal.SIG_BLOCK, _WAITED)
        ns.set_dumpable(False)
        ns.set_process_name("rkt-supervisor")
        flags = ns.CLONE_NEWUTS | ns.CLONE_NEWIPC
        if new_net:
            flags |= ns.CLONE_NEWNET
        ns.unshare(flags)
        if netns is not None:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                ns.setns(fd, ns.CLONE_NEWNET)
            finally:
                os.close(fd)
        elif new_net:
            _lo_up()
        ns.sethostname(plan.hostname)
        go = os.read(go_r, 1)  # stage0 made the cgroups meanwhile, and wrote the pid file
        os.close(go_r)
        if go != b"g":
            os._exit(START_FAILED)  # stage0 gave up (and says why) or died: nothing was started
        if cg is not None:
            cg.attach(supervisor_cgroup(plan.cgroup))
        sup = (make or Supervisor)(plan, cg)
        for app in plan.apps:
            sup.start(app)
        os.write(status_w, b"ok")
        os.close(status_w)
        code = sup.loop()
    except BaseException as e:
        try:
            os.write(status_w, f"supervisor: {e}".encode())
        except OSError:
            _say(f"supervisor: {e}")
    sys.stdout.flush()
    os._exit(code)


def exited_children() -> Iterator[tuple[int, int]]:
    """``(pid, wait status)`` of each child that has exited, without blocking, until none is left."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status
