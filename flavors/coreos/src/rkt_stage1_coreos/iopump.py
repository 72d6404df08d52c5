"""One sandbox app's stdin/stdout/stderr, as the supervisor's loop handles them.

Modes (:mod:`rkt_sdk.appio`): ``null`` is ``/dev/null``; ``log`` a pipe whose lines the
supervisor writes to the app's CRI log file; ``stream`` a pipe (stdin: a pipe the
supervisor writes) reached by ``rkt attach``; ``tty`` a pseudo-terminal the app gets as its
controlling terminal. Output of ``stream`` and ``tty`` apps goes to every attached client;
while nobody is attached it is kept, up to :data:`BUFFER` bytes (the oldest is dropped).
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import struct
from collections import deque

from rkt_sdk.appio import CriLog
from rkt_sdk.attach import CLOSE_STDIN, EXIT, RESIZE, STDERR, STDIN, STDOUT, FrameReader, frame

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: output kept for the next client while nobody is attached, per app
BUFFER = 1 << 20
_KIND = {"stdout": STDOUT, "stderr": STDERR, "tty": STDOUT}


class AppIO:
    """The file descriptors of one app's run, both sides, and who is attached."""

    def __init__(self, name: str, modes: tuple[str, str, str], log_path: str) -> None:
        self.name = name
        self.modes = modes
        self.log = CriLog(log_path) if "log" in modes[1:] else None
        self.child: list[int] = []  # fds the child gets as 0, 1, 2 (-1: /dev/null)
        self.outputs: dict[int, str] = {}  # parent's read ends -> "stdout"/"stderr"/"tty"
        self.stdin_w = -1
        self.master = -1
        self.clients: list[socket.socket] = []
        self.readers: dict[int, FrameReader] = {}
        self.pending: dict[int, bytearray] = {}  # output a slow client has not taken yet
        self.kept: deque[tuple[int, bytes]] = deque()
        self.kept_size = 0
        self.code: int | None = None
        self._make()

    def _make(self) -> None:
        stdin, stdout, stderr = self.modes
        if stdin == "tty":
            self.master, slave = os.openpty()
            os.set_blocking(self.master, False)
            os.set_inheritable(self.master, False)
            self.outputs[self.master] = "tty"
            self.child = [slave, slave, slave]
            return
        if stdin == "stream":
            r, self.stdin_w = os.pipe2(os.O_CLOEXEC)
            self.child.append(r)
        else:
            self.child.append(-1)
        for stream, mode in (("stdout", stdout), ("stderr", stderr)):
            if mode in ("log", "stream"):
                r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
                os.set_blocking(w, True)
                self.outputs[r] = stream
                self.child.append(w)
            else:
                self.child.append(-1)

    def child_side(self) -> None:
        """In the app's child (a new session): its stdio, and a terminal as its controlling one."""
        null = os.open("/dev/null", os.O_RDWR)
        for target, fd in enumerate(self.child):
            os.dup2(fd if fd >= 0 else null, target)
        if self.master >= 0:  # termios is imported here only: each app's child would load it anew
            import fcntl
            import termios

            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def parent_side(self) -> None:
        """In the supervisor, once the child is forked: close the child's ends."""
        for fd in set(self.child):
            if fd >= 0:
                os.close(fd)
        self.child = []

    def register(self, sel: selectors.BaseSelector) -> None:
        for fd in self.outputs:
            sel.register(fd, selectors.EVENT_READ, lambda fd, sel=sel: self._output(fd, sel))

    def _output(self, fd: int, sel: selectors.BaseSelector) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: a terminal whose other side is closed
            if e.errno != errno.EIO:
                raise
            data = b""
        stream = self.outputs[fd]
        if not data:
            sel.unregister(fd)
            del self.outputs[fd]
            if fd != self.master:
                os.close(fd)
            self._maybe_done(sel)
            return
        if self.log is not None and stream != "tty" and self.modes[1 if stream == "stdout" else 2] == "log":
            self.log.write(stream, data)
            return
        self._deliver(_KIND[stream], data, sel)

    def _deliver(self, kind: int, data: bytes, sel: selectors.BaseSelector) -> None:
        if not self.clients:
            self.kept.append((kind, data))
            self.kept_size += len(data)
            while self.kept_size > BUFFER:
                self.kept_size -= len(self.kept.popleft()[1])
            return
        for conn in list(self.clients):
            self._send(conn, frame(kind, data), sel)

    def _send(self, conn: socket.socket, data: bytes, sel: selectors.BaseSelector) -> None:
        """Send without blocking the supervisor: what the client cannot take now waits (bounded)."""
        fd = conn.fileno()
        pending = self.pending.get(fd)
        if pending is not None:
            pending += data
        else:
            try:
                sent = conn.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._detach(conn, sel)
                return
            if sent == len(data):
                return
            pending = self.pending[fd] = bytearray(data[sent:])
            sel.modify(conn, selectors.EVENT_READ | selectors.EVENT_WRITE, sel.get_key(conn).data)
        if len(pending) > BUFFER:
            self._detach(conn, sel)  # a client that takes nothing is dropped, not waited for

    def _flush(self, conn: socket.socket, sel: selectors.BaseSelector) -> None:
        pending = self.pending.get(conn.fileno())
        if not pending:
            return
        try:
            del pending[:conn.send(pending)]
        except BlockingIOError:
            return
        except OSError:
            self._detach(conn, sel)
            return
        if not pending:
            del self.pending[conn.fileno()]
            sel.modify(conn, selectors.EVENT_READ, sel.get_key(conn).data)

    def finish(self, code: int, sel: selectors.BaseSelector) -> None:
        """The app exited with ``code``."""
        self.code = code
        self._maybe_done(sel)

    def _maybe_done(self, sel: selectors.BaseSelector) -> None:
        if self.code is None or any(s != "tty" for s in self.outputs):
            return
        if self.master >= 0 and self.master in self.outputs:
            self._output(self.master, sel)  # what the terminal still holds
            return
        for conn in list(self.clients):
            try:
                conn.settimeout(2.0)
                conn.sendall(bytes(self.pending.get(conn.fileno(), b"")) + frame(EXIT, str(self.code).encode()))
            except OSError:
                pass
            self._detach(conn, sel)

    # --- attach -----------------------------------------------------------------------------

    def attach(self, conn: socket.socket, req: dict[str, Any], sel: selectors.BaseSelector) -> bool:
        """Make ``conn`` an attached client: answer, send what was kept, then stream."""
        from rkt_sdk.errors import RktError

        if self.modes[1] not in ("stream", "tty") and self.modes[2] != "stream" and self.modes[0] != "stream":
            raise RktError(f"app {self.name!r} has no stream or tty to attach to (its modes: "
                           f"stdin={self.modes[0]}, stdout={self.modes[1]}, stderr={self.modes[2]})")
        conn.settimeout(None)
        conn.sendall(b'{"ok": true, "tty": %s}\n' % (b"true" if self.master >= 0 else b"false"))
        while self.kept:
            kind, data = self.kept.popleft()
            conn.sendall(frame(kind, data))
        self.kept_size = 0
        conn.setblocking(False)
        self.clients.append(conn)
        self.readers[conn.fileno()] = FrameReader()
        sel.register(conn, selectors.EVENT_READ, lambda _fd: self._ready(conn, sel))
        self._maybe_done(sel)
        return True

    def _ready(self, conn: socket.socket, sel: selectors.BaseSelector) -> None:
        self._flush(conn, sel)
        if conn in self.clients:
            self._client(conn, sel)

    def _client(self, conn: socket.socket, sel: selectors.BaseSelector) -> None:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._detach(conn, sel)
            return
        for kind, payload in self.readers[conn.fileno()].feed(data):
            self._from_client(kind, payload)

    def _from_client(self, kind: int, payload: bytes) -> None:
        target = self.master if self.master >= 0 else self.stdin_w
        if kind == STDIN and target >= 0:
            try:
                os.set_blocking(target, True)
                while payload:
                    payload = payload[os.write(target, payload):]
            except OSError:
                pass
            finally:
                if target == self.master:
                    os.set_blocking(target, False)
        elif kind == RESIZE and self.master >= 0 and len(payload) == 4:
            import fcntl
            import termios

            rows, cols = struct.unpack(">HH", payload)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif kind == CLOSE_STDIN and self.stdin_w >= 0:
            os.close(self.stdin_w)
            self.stdin_w = -1

    def _detach(self, conn: socket.socket, sel: selectors.BaseSelector) -> None:
        if conn in self.clients:
            self.clients.remove(conn)
            self.readers.pop(conn.fileno(), None)
            self.pending.pop(conn.fileno(), None)
            try:
                sel.unregister(conn)
            except (KeyError, ValueError):
                pass
        conn.close()

    # --- the end ------------------------------------------------------------------------------

    def reopen_log(self) -> None:
        if self.log is not None:
            self.log.reopen()

    def drain(self, sel: selectors.BaseSelector) -> None:
        """Read what the pipes still hold (the app is gone), then close everything."""
        for fd in list(self.outputs):
            for _ in range(256):  # bounded: a descriptor someone still writes to is not waited for
                if fd not in self.outputs:
                    break
                self._output(fd, sel)
        self.close(sel)

    def close(self, sel: selectors.BaseSelector) -> None:
        """Close every descriptor and client of this run."""
        for conn in list(self.clients):
            self._detach(conn, sel)
        for fd in list(self.outputs):
            try:
                sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)
        self.outputs.clear()
        for fd in (self.stdin_w, self.master):
            if fd >= 0 and fd not in self.outputs:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stdin_w = self.master = -1
        if self.log is not None:
            self.log.close()
