"""The supervisor of a mutable pod (``rkt app sandbox``): apps come and go while it runs.

It is the pod's PID 1 as at ``run`` (:mod:`rkt_stage1_coreos.supervisor`), and it also
listens on the pod's control socket (:mod:`rkt_stage1_coreos.control`) for ``prepare``
(sent by ``rkt app add``: :mod:`rkt_stage1_coreos.prepared`), ``start``, ``stop``, ``rm``,
``reopen`` and ``attach`` requests. It never exits because an app did: only
a stop of the pod (SIGTERM, SIGINT, SIGHUP) ends it, once every app is gone.

An app is started as at ``run`` (its own mount namespace and root, in the pod's other
namespaces and its own cgroup), from the pod manifest on disk, in its own session. Its
output is handled by the supervisor's one loop: ``log`` lines go to the app's CRI log
file, ``stream`` and ``tty`` output to attached clients and a bounded buffer
(:mod:`rkt_stage1_coreos.iopump`).
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import time

from rkt_sdk.errors import RktError
from rkt_sdk.poddir import write_atomic
from rkt_stage1_coreos import control
from rkt_stage1_coreos.iopump import AppIO
from rkt_stage1_coreos.prepared import Prepared, manifest_stamp, read_result
from rkt_stage1_coreos.supervisor import START_FAILED, STOP_SIGNALS, Supervisor, _app_child, exited_children

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rkt_sdk.linux.cgroups import Cgroups
    from rkt_sdk.types import Pod
    from rkt_stage1_coreos.plan import AppPlan, PodPlan


class AppRun:
    """What the sandbox holds for one app it started: process, stop deadline, waiters, I/O."""

    def __init__(self, plan: AppPlan, pid: int, io: AppIO) -> None:
        self.plan = plan
        self.pid = pid
        self.io = io
        self.deadline: float | None = None
        self.waiters: list[socket.socket] = []
        self.remove = False
        self.code: int | None = None


class Sandbox(Supervisor):
    """PID 1 of a mutable pod: the control socket, app starts and stops, output, reaping."""

    def __init__(self, plan: PodPlan, cg: Cgroups | None, insecure: frozenset[str] = frozenset(),
                 settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(plan, cg)
        self.insecure = insecure
        self.settings = dict(settings or {})
        self.apps: dict[str, AppRun] = {}
        self.prepared: dict[str, Prepared] = {}
        self.pending: dict[str, socket.socket] = {}  # prepare requests whose 'rkt app add' still runs
        self.sel = selectors.DefaultSelector()
        self.listener = control.listen(plan.path)

    # --- starting an app ------------------------------------------------------------------

    def _plan(self, name: str, pod: Pod | None = None) -> tuple[AppPlan, Any]:
        from rkt_sdk.appio import io_modes
        from rkt_sdk.record import replace
        from rkt_stage1_coreos.plan import app_plan

        pod = pod or self.pd.read_pod(self.plan.uuid)
        pa = pod.app(name)
        if pa is None:
            raise RktError(f'pod "{self.plan.uuid}" has no app "{name}"')
        plan = app_plan(pod, pa, self.insecure, self.settings)
        if io_modes(pa.runtime)[0] == "tty" and "TERM" not in plan.env:
            plan = replace(plan, env={**plan.env, "TERM": "xterm"})  # a terminal's programs want to know it
        return plan, pa.runtime

    def start_app(self, name: str) -> None:
        """Start app ``name`` from the manifest on disk; raise with the reason if it cannot start."""
        from rkt_sdk.appio import io_modes

        run = self.apps.get(name)
        if run is not None and run.code is None:
            raise RktError(f'app "{name}" of pod "{self.plan.uuid}" is already running')
        prep = self.prepared.pop(name, None)
        if prep is not None and prep.unchanged(self.pd.manifest_path):
            plan, ra = prep.plan, prep.runtime
        else:
            plan, ra = self._plan(name)
            if prep is not None and (prep.dead or prep.plan != plan or prep.io.modes != io_modes(ra)):
                prep.cancel(self.sel)
                prep = None
        if run is not None:
            run.io.close(self.sel)
        if prep is not None:
            io = prep.io
            pid, host_pid, err = self._go(prep)
        else:
            self._cgroup(plan)
            io = AppIO(name, io_modes(ra), str(self.pd.app_log_path(name)))
            pid, host_pid, err = self._fork(plan, io)
        self.running[pid] = plan
        self.apps[name] = AppRun(plan, pid, io)
        io.register(self.sel)
        if host_pid:
            self.pd.record_app_pid(name, host_pid)
        write_atomic(self._pidfile(name), f"{pid}\n")
        if err:
            raise RktError(err)

    def _cgroup(self, plan: AppPlan) -> None:
        from rkt_stage1_coreos.cgroup_setup import apply_limits

        if self.cg is not None:
            self.cg.create(plan.cgroup)
            apply_limits(self.cg, plan.cgroup, plan.limits)

    def _prepare_later(self, conn: socket.socket, name: str) -> None:
        """Prepare app ``name`` once the ``rkt app add`` that asked has exited (its connection ends)."""
        old = self.pending.pop(name, None)
        if old is not None:
            self._drop(old)
        self.pending[name] = conn

        def ended(_fd: int) -> None:
            if self.pending.get(name) is conn:
                del self.pending[name]
            self._drop(conn)
            try:
                self.prepare_app(name)
            except Exception as e:  # only a speed-up: the start does it all anew and reports what fails
                from rkt_stage1_coreos.supervisor import _say

                _say(f"app {name!r}: not prepared ahead: {e}")

        self.sel.register(conn, selectors.EVENT_READ, ended)

    def _drop(self, conn: socket.socket) -> None:
        try:
            self.sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def prepare_app(self, name: str) -> None:
        """Set up the child of an app the manifest names and that never ran, ahead of its start.

        Only a speed-up: :meth:`start_app` uses the child when its plan is still the app's,
        and starts the app anew otherwise; ``rm`` and a stop of the pod kill it.
        """
        from rkt_sdk.appio import io_modes

        if name in self.apps or name in self.prepared:
            return
        stamp = manifest_stamp(self.pd.manifest_path)
        pod = self.pd.read_pod(self.plan.uuid)
        if pod.app(name) is None:  # the add failed or was killed
            return
        plan, ra = self._plan(name, pod)
        modes = io_modes(ra)
        if modes[0] == "tty":
            return
        self._cgroup(plan)
        io = AppIO(name, modes, str(self.pd.app_log_path(name)))
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        pid, result = self._spawn(plan, io, go_r)
        os.close(go_r)
        self.prepared[name] = Prepared(plan, pid, io, result, go_w, ra, stamp)

    def _go(self, prep: Prepared) -> tuple[int, int, str]:
        """Let a prepared child exec; as :meth:`_fork`."""
        self.pd.clear_app_exit(prep.plan.name)
        self.pd.record_app_started(prep.plan.name)
        try:
            os.write(prep.go, b"g")
        except OSError:
            pass  # it died meanwhile: its reason is in the result pipe
        os.close(prep.go)
        host_pid, err = read_result(prep.result)
        return prep.pid, host_pid, err

    def _spawn(self, plan: AppPlan, io: AppIO, go: int = -1) -> tuple[int, int]:
        """Fork the app's child (waiting on ``go`` before its exec, if given); its pid and the result pipe."""
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.write(w, f"P{os.readlink('/proc/self')}\n".encode())
                os.setsid()
                io.child_side()
            except BaseException as e:
                os.write(w, f"app {plan.name!r}: {e}".encode())
                os._exit(START_FAILED)
            _app_child(self.plan, plan, self.cg, w, go)
        os.close(w)
        io.parent_side()
        return pid, r

    def _fork(self, plan: AppPlan, io: AppIO) -> tuple[int, int, str]:
        """Fork the app's child; its pid, host pid and start error ("" once it runs its program)."""
        pid, r = self._spawn(plan, io)
        self.pd.clear_app_exit(plan.name)
        self.pd.record_app_started(plan.name)
        host_pid, err = read_result(r)
        return pid, host_pid, err

    # --- stopping and reaping ---------------------------------------------------------------

    def _signal_app(self, run: AppRun, sig: int) -> None:
        """Send ``sig`` to the app and to every process of its cgroup.

        As systemd's default ``KillMode=control-group`` did for rkt's apps: a shell that traps
        SIGTERM while it waits for a child (``sleep``) would otherwise act on it only once the
        child has exited on its own.
        """
        targets = [run.pid]
        if self.cg is not None:
            targets += self.cg.procs(run.plan.cgroup)  # pids as this PID namespace sees them
        for pid in targets:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def stop_app(self, run: AppRun, force: bool, timeout: float) -> None:
        """SIGTERM the app (SIGKILL with ``force``), and arm its SIGKILL deadline."""
        if force or timeout <= 0:
            self._signal_app(run, signal.SIGKILL)
        else:
            self._signal_app(run, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            run.deadline = deadline if run.deadline is None else min(run.deadline, deadline)

    def reap(self) -> None:
        """Collect exited children; record each app's exit, answer who waits for it; the pod goes on."""
        for pid, status in exited_children():
            plan = self.running.pop(pid, None)
            if plan is None:
                for prep in self.prepared.values():
                    prep.dead = prep.dead or prep.pid == pid
            run = self.apps.get(plan.name) if plan is not None else None
            if plan is None or run is None or run.pid != pid:
                continue
            code = os.waitstatus_to_exitcode(status)
            run.code = 128 - code if code < 0 else code
            run.deadline = None
            self.pd.record_app_exited(plan.name, run.code)
            self.pd.record_app_pid(plan.name, None)
            self._signal_app(run, signal.SIGKILL)  # what the app left behind goes with it
            run.io.finish(run.code, self.sel)
            if run.remove:
                self.forget(plan.name)
            for conn in run.waiters:
                _answer(conn, {"ok": True, "exit": run.code})
            run.waiters.clear()

    def forget(self, name: str) -> None:
        """Drop an app that is not running: its I/O, a child prepared for it, its cgroup, its pid file."""
        prep = self.prepared.pop(name, None)
        if prep is not None:
            prep.cancel(self.sel)
        conn = self.pending.pop(name, None)
        if conn is not None:
            self._drop(conn)
        run = self.apps.pop(name, None)
        if run is not None:
            run.io.close(self.sel)
        if self.cg is not None:
            from rkt_stage1_coreos.plan import app_cgroup

            try:
                self.cg.remove(app_cgroup(self.plan.cgroup, name))
            except RktError as e:
                from rkt_stage1_coreos.supervisor import _say

                _say(f"app {name!r}: {e}")
        try:
            os.unlink(self._pidfile(name))
        except FileNotFoundError:
            pass

    # --- requests ----------------------------------------------------------------------------

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.settimeout(2.0)
        try:
            req = json.loads(control.read_line(conn))
            if not isinstance(req, dict):
                raise ValueError("not an object")
            keep = self.handle(conn, req)
        except (OSError, ValueError) as e:
            _answer(conn, {"error": f"bad request: {e}"})
            return
        except RktError as e:
            _answer(conn, {"error": str(e)})
            return
        if not keep:
            conn.close()

    def handle(self, conn: socket.socket, req: dict[str, Any]) -> bool:
        """Serve one request; True when the connection is kept (a stop waits, an attach streams)."""
        op, name = req.get("op"), str(req.get("app", ""))
        run = self.apps.get(name)
        if op == "prepare":
            self._prepare_later(conn, name)
            return True
        if op == "start":
            self.start_app(name)
            _answer(conn, {"ok": True}, close=False)
            return False
        if op in ("stop", "rm") and run is not None and run.code is None:
            run.remove = op == "rm"
            run.waiters.append(conn)
            self.stop_app(run, op == "rm" or bool(req.get("force")), float(req.get("timeout", 10)))
            return True
        if op in ("stop", "rm"):
            if op == "rm":
                self.forget(name)
            _answer(conn, {"ok": True, "exit": run.code if run is not None else None}, close=False)
            return False
        if op == "reopen" and run is not None:
            run.io.reopen_log()
            _answer(conn, {"ok": True}, close=False)
            return False
        if op == "attach" and run is not None:
            return run.io.attach(conn, req, self.sel)
        raise RktError(f"unknown request {op!r}" if op not in ("reopen", "attach") else f"no app {name!r} started")

    # --- the loop ----------------------------------------------------------------------------

    def _timeout(self) -> float | None:
        deadlines = [r.deadline for r in self.apps.values() if r.deadline is not None]
        if self.deadline is not None:
            deadlines.append(self.deadline)
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _expire(self) -> None:
        now = time.monotonic()
        for run in self.apps.values():
            if run.deadline is not None and run.deadline <= now:
                run.deadline = None
                self._signal_app(run, signal.SIGKILL)
        if self.deadline is not None and self.deadline <= now:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _signals(self, fd: int) -> None:
        try:
            got = os.read(fd, 512)
        except BlockingIOError:
            return
        if any(s in STOP_SIGNALS for s in got):
            self.stop()

    def loop(self) -> int:
        """Serve requests and apps' output until the pod is stopped and every app is gone."""
        wr, ww = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(ww)
        self.sel.register(wr, selectors.EVENT_READ, self._signals)
        self.sel.register(self.listener, selectors.EVENT_READ, lambda _fd: self._accept())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD, *STOP_SIGNALS])
        while self.deadline is None or self.running:
            for key, _ in self.sel.select(self._timeout()):
                key.data(key.fd)
            self._expire()
            self.reap()
        self.listener.close()
        for run in list(self.apps.values()):
            run.io.drain(self.sel)
        return 0


def _answer(conn: socket.socket, obj: dict[str, Any], close: bool = True) -> None:
    try:
        control.send(conn, obj)
    except OSError as e:
        if e.errno not in (errno.EPIPE, errno.ECONNRESET):
            raise
    finally:
        if close:
            conn.close()
