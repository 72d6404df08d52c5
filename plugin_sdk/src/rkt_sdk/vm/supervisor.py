"""The host side of a running pod VM: one loop that follows the guest until it powers off.

The :class:`Supervisor` runs in the pod process (the ``rkt run`` process that called the
flavor). It copies the apps' output from the guest's ``rkt.stdout``/``rkt.stderr`` ports to
its own stdout/stderr, keeps the kernel console in ``stage1-data/console.log`` (and on
stderr with ``--debug``), records each app's start and exit in the pod directory, applies the
pod exit rule (the first app that failed gives the pod's exit code; its siblings are then
stopped), and serves ``enter`` and ``stop`` requests of other rkt processes on
``stage1-data/supervisor.sock``.

How the VM itself runs (a QEMU child, a libvirt domain) is hidden behind :class:`VMHandle`.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from rkt_sdk.poddir import PodDir
from rkt_sdk.record import Record
from rkt_sdk.vm import protocol
from rkt_sdk.vm.errors import GuestError
from rkt_sdk.vm.requests import ClientRequests
from rkt_sdk.vm.unixsock import listen_unix

SUPERVISOR_SOCKET = "supervisor.sock"
CONSOLE_LOG = "console.log"
#: exit code of ``rkt run`` when the VM was killed before its apps reported (as SIGKILL would give).
KILLED_EXIT = 137
#: seconds the guest gets, after a stop's grace period, to power off before it is killed.
POWEROFF_GRACE = 10.0
#: seconds the VM handle gets to report an end that a forced stop, or the closing of every guest
#: channel (the emulator is gone), already tells; then the VM is taken as ended all the same.
END_GRACE = 10.0


class VMHandle(Protocol):
    """A running VM as the supervisor sees it."""

    def ended_fd(self) -> int:
        """A file descriptor that becomes readable when the VM has ended."""

    def force_off(self) -> None:
        """Stop the VM at once (like pulling the plug). Idempotent."""

    def finish(self) -> None:
        """Called once the VM has ended: reap processes, release handles."""


class GuestChannels(Record):
    """Host ends of the guest's character devices (connected stream sockets)."""

    console: socket.socket
    control: socket.socket
    stdout: socket.socket
    stderr: socket.socket


class Supervisor:
    """Follow one pod VM until it ends; see the module documentation."""

    def __init__(self, pod_path: Path, app_names: list[str], channels: GuestChannels, vm: VMHandle, *,
                 stop_timeout: float = 10.0, boot_timeout: float = 120.0, debug: bool = False,
                 out_fd: int = 1, err_fd: int = 2) -> None:
        self.pd = PodDir(pod_path)
        self.apps = list(app_names)
        self.ch = channels
        self.vm = vm
        self.stop_timeout = stop_timeout
        self.boot_timeout = boot_timeout
        self.debug = debug
        self.out_fd = out_fd
        self.err_fd = err_fd
        self.console_log = self.pd.make_stage1_data() / CONSOLE_LOG
        self.ready = False
        self.exited: dict[str, int] = {}
        self.first_failure: int | None = None
        self.guest_error = ""
        self.forced = False
        self.vm_ended = False
        self.kill_at: float | None = None
        self.end_by: float | None = None
        self.shutdown_sent = False
        self._ctl_buf = b""
        self.selector = selectors.DefaultSelector()
        self.requests = ClientRequests(self)
        self._signals: list[int] = []
        self._open: set[socket.socket] = set()
        self._streams: dict[int, int] = {}
        self._log: BinaryIO | None = None
        self._listener: socket.socket | None = None
        self._sig: tuple[socket.socket, socket.socket, dict[int, Any], int] | None = None
        self._boot_deadline: float | None = None
        self._drain_until: float | None = None

    def app_key(self, app: str) -> int | str | None:
        """How the guest names ``app`` (its index), ``None`` if the pod has no such app."""
        return self.apps.index(app) if app in self.apps else None

    def client_request(self, client: socket.socket, req: dict[str, Any]) -> bool:
        """Serve a request :class:`ClientRequests` does not know; ``False``: none of ours either."""
        return False

    # --- guest side ----------------------------------------------------------------------

    def send_guest(self, data: bytes) -> None:
        try:
            self.ch.control.sendall(data)
        except OSError:
            pass

    def request_stop(self, timeout: float) -> None:
        if not self.ready:
            self.force_off()
            return
        self.send_guest(protocol.cmd_stop(timeout))
        deadline = time.monotonic() + timeout + POWEROFF_GRACE
        self.kill_at = min(self.kill_at or deadline, deadline)

    def force_off(self) -> None:
        self.forced = True
        self.vm.force_off()
        self._expect_end()

    def _expect_end(self) -> None:
        deadline = time.monotonic() + END_GRACE
        self.end_by = min(self.end_by or deadline, deadline)

    def _shutdown(self) -> None:
        if not self.shutdown_sent:
            self.shutdown_sent = True
            self.send_guest(protocol.cmd_shutdown())
            deadline = time.monotonic() + POWEROFF_GRACE
            self.kill_at = min(self.kill_at or deadline, deadline)

    def _event(self, ev: dict[str, Any]) -> None:
        kind = ev["ev"]
        if kind == "ready":
            self.ready = True
        elif kind == "started" and ev.get("app") in self.apps:
            self.pd.record_app_started(str(ev["app"]))
        elif kind == "exited" and ev.get("app") in self.apps:
            app, code = str(ev["app"]), int(ev.get("code", 255))
            self.pd.record_app_exited(app, code)
            self.exited[app] = code
            if code != 0 and self.first_failure is None:
                self.first_failure = code
                if len(self.exited) < len(self.apps):
                    self.request_stop(self.stop_timeout)
            if len(self.exited) == len(self.apps):
                self._shutdown()
        elif kind == "entered":
            self.requests.entered(int(ev.get("id", 0)), int(ev.get("code", 255)))
        elif kind == "error":
            self.guest_error = str(ev.get("msg", "unknown error"))
            print(f"rkt: guest: {self.guest_error}", file=sys.stderr)
            if not self.ready:
                self._shutdown()

    def _control(self, data: bytes) -> None:
        self._ctl_buf += data
        while b"\n" in self._ctl_buf:
            line, self._ctl_buf = self._ctl_buf.split(b"\n", 1)
            line = line.strip()
            if not line:
                continue
            try:
                self._event(protocol.parse_event(line))
            except GuestError as e:
                if self.debug:
                    print(f"rkt: {e}", file=sys.stderr)

    # --- the loop ----------------------------------------------------------------------------

    def _write_all(self, fd: int, data: bytes) -> None:
        try:
            while data:
                n = os.write(fd, data)
                data = data[n:]
        except OSError:
            pass

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signals.append(signum)

    def _install_signals(self) -> tuple[socket.socket, socket.socket, dict[int, Any], int] | None:
        if threading.current_thread() is not threading.main_thread():
            return None
        r, w = socket.socketpair()
        r.setblocking(False)
        w.setblocking(False)
        old: dict[int, Any] = {s: signal.signal(s, self._on_signal)
                               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        old_fd = signal.set_wakeup_fd(w.fileno())
        return r, w, old, old_fd

    def run(self) -> int:
        """Follow the VM until it ends; the pod's exit code.

        :raises GuestError: the guest never got its apps running (boot or setup failure).
        """
        self._start()
        try:
            while True:
                now = time.monotonic()
                self._check_deadlines(now)
                if self._finished(now):
                    break
                for key, _ in self.selector.select(self._timeout(now)):
                    self._dispatch(key)
        finally:
            self._teardown()
        return self._result()

    def _start(self) -> None:
        """Listen for clients, catch the stop signals, open the console log, watch every channel."""
        self._listener = listen_unix(self.pd.stage1_data / SUPERVISOR_SOCKET)
        self._sig = self._install_signals()
        self._log = open(self.console_log, "ab")  # noqa: SIM115 (closed by _teardown)
        self._streams = {self.ch.stdout.fileno(): self.out_fd, self.ch.stderr.fileno(): self.err_fd}
        self._open = {self.ch.console, self.ch.control, self.ch.stdout, self.ch.stderr}
        for s in self._open:
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ, "channel")
        self.selector.register(self._listener, selectors.EVENT_READ, "listener")
        self.selector.register(self.vm.ended_fd(), selectors.EVENT_READ, "vm")
        if self._sig is not None:
            self.selector.register(self._sig[0], selectors.EVENT_READ, "signal")
        self._boot_deadline = time.monotonic() + self.boot_timeout

    def _check_deadlines(self, now: float) -> None:
        """Act on the deadlines passed: boot, kill after a stop's grace, the VM's report of its end."""
        live = not self.vm_ended
        if self._boot_deadline is not None and not self.ready and live and now >= self._boot_deadline:
            print(f"rkt: the guest did not start its apps within {self.boot_timeout:g}s; stopping the VM",
                  file=sys.stderr)
            self.force_off()
            self._boot_deadline = None
        if self.kill_at is not None and now >= self.kill_at and live:
            self.force_off()
            self.kill_at = None
        if not self._open and live and self.end_by is None:
            self._expect_end()
        if self.end_by is not None and now >= self.end_by and live:
            if self.debug:
                print("rkt: the VM did not report its end; taking it as ended", file=sys.stderr)
            self.vm_ended = True
            self._drain_until = now

    def _finished(self, now: float) -> bool:
        """The VM has ended and its channels are drained (closed, or given their time)."""
        drained = not self._open or (self._drain_until is not None and now >= self._drain_until)
        return self.vm_ended and drained

    def _timeout(self, now: float) -> float | None:
        """Seconds until the next deadline (``None``: wait for an event only)."""
        waits = [t - now for t in (self._boot_deadline if not self.ready else None, self.kill_at, self._drain_until,
                                   None if self.vm_ended else self.end_by) if t is not None]
        return max(0.0, min(waits)) if waits else None

    def _dispatch(self, key: selectors.SelectorKey) -> None:
        what = key.data
        if what == "channel":
            assert isinstance(key.fileobj, socket.socket)
            self._on_channel(key.fileobj)
        elif what == "listener":
            assert self._listener is not None
            self.requests.accept(self._listener)
        elif what == "client":
            assert isinstance(key.fileobj, socket.socket)
            self.requests.data(key.fileobj)
        elif what == "vm":
            self.selector.unregister(key.fileobj)
            self.vm_ended = True
            self._drain_until = time.monotonic() + 2.0
        elif what == "signal":
            self._on_signal_fd()

    def _on_channel(self, chan: socket.socket) -> None:
        """Data (or the end) of a guest channel: control events, the console, the apps' output."""
        try:
            data = chan.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(chan)
            self._open.discard(chan)
        elif chan is self.ch.control:
            self._control(data)
        elif chan is self.ch.console:
            assert self._log is not None
            self._log.write(data)
            self._log.flush()
            if self.debug:
                self._write_all(self.err_fd, data)
        else:
            self._write_all(self._streams[chan.fileno()], data)

    def _on_signal_fd(self) -> None:
        """SIGINT, SIGTERM or SIGHUP: stop the apps; a second one (or one before boot) forces."""
        assert self._sig is not None
        try:
            self._sig[0].recv(64)
        except OSError:
            pass
        while self._signals:
            self._signals.pop()
            if self.kill_at is not None or not self.ready:
                self.force_off()
            else:
                self.request_stop(self.stop_timeout)

    def _teardown(self) -> None:
        """Let the VM go, drop the clients, remove the socket, restore the signal handlers."""
        self.vm.finish()
        self.requests.close_all()
        if self._listener is not None:
            self._listener.close()
        try:
            (self.pd.stage1_data / SUPERVISOR_SOCKET).unlink()
        except FileNotFoundError:
            pass
        if self._log is not None:
            self._log.close()
        if self._sig is not None:
            r, w, old, old_fd = self._sig
            signal.set_wakeup_fd(old_fd)
            for s_num, h in old.items():
                signal.signal(s_num, h)
            r.close()
            w.close()
        self.selector.close()

    def console_tail(self, lines: int = 5) -> str:
        """The last lines of the guest's console log, on one line."""
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(x.strip() for x in text.strip().splitlines()[-lines:])

    def _result(self) -> int:
        if not self.ready:
            if self.guest_error:
                raise GuestError(f"the pod could not be set up in the VM: {self.guest_error}")
            if self.forced:
                return KILLED_EXIT
            tail = self.console_tail()
            raise GuestError(f"the VM ended before its init was ready (console log {self.console_log}"
                             + (f": {tail}" if tail else "") + ")")
        if self.first_failure is not None:
            return self.first_failure
        missing = [a for a in self.apps if a not in self.exited]
        if not missing:
            return 0
        if self.forced:
            return KILLED_EXIT
        print(f"rkt: the VM ended before app(s) {', '.join(missing)} exited", file=sys.stderr)
        return 254
