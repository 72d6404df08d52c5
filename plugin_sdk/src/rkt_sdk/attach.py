"""``rkt attach``'s wire format and its client: an app's streams over one stream socket.

Frames in both directions: one type byte, a 4-byte big-endian length, the payload.

From the client: :data:`STDIN` (bytes for the app's stdin), :data:`RESIZE` (``rows`` and
``cols``, two big-endian 16-bit numbers), :data:`CLOSE_STDIN` (end of input). From the
flavor: :data:`STDOUT`, :data:`STDERR` (a terminal's output is :data:`STDOUT`), and
:data:`EXIT` (the app's exit code as decimal text) just before the flavor closes.

:func:`session` is the client a flavor's ``rkt_stage1_app_attach`` runs in the ``rkt attach``
process: it copies the caller's stdin to the app and the app's output to the caller's
stdout/stderr; on a terminal it puts the caller's terminal in raw mode, forwards window
size changes, and detaches when the caller types the detach key sequence.
"""

from __future__ import annotations

import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

STDIN, STDOUT, STDERR, RESIZE, EXIT, CLOSE_STDIN = range(6)
HEADER = struct.Struct(">BI")
#: ctrl-p ctrl-q, as other container engines detach
DEFAULT_DETACH_KEYS = b"\x10\x11"
#: exit code of ``rkt attach`` that detached (the app goes on)
DETACHED = 0


def frame(kind: int, payload: bytes = b"") -> bytes:
    """One frame."""
    return HEADER.pack(kind, len(payload)) + payload


class FrameReader:
    """Frames out of a byte stream read in pieces."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add ``data``; return the frames now complete."""
        self.buf += data
        out = []
        while len(self.buf) >= HEADER.size:
            kind, size = HEADER.unpack_from(self.buf)
            if len(self.buf) < HEADER.size + size:
                break
            out.append((kind, bytes(self.buf[HEADER.size:HEADER.size + size])))
            del self.buf[:HEADER.size + size]
        return out


def parse_detach_keys(text: str) -> bytes:
    """``ctrl-p,ctrl-q`` (or ``ctrl-a,d``...) as bytes.

    :raises ValueError: naming the bad key.
    """
    out = bytearray()
    for key in filter(None, text.split(",")):
        if key.startswith("ctrl-") and len(key) == 6 and key[5].isalpha():
            out.append(ord(key[5].lower()) - ord("a") + 1)
        elif len(key) == 1:
            out.append(ord(key))
        else:
            raise ValueError(f"--detach-keys: {key!r} is not a key (use a character or ctrl-<letter>)")
    return bytes(out)


def _winsize(fd: int) -> bytes | None:
    import fcntl
    import termios

    try:
        raw = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols = struct.unpack("HHHH", raw)[:2]
    return struct.pack(">HH", rows, cols)


def session(sock: socket.socket, *, stdin: bool, tty: bool, detach_keys: bytes = DEFAULT_DETACH_KEYS) -> int:
    """Copy between the caller's stdio and an attached app until it ends or the caller detaches.

    :returns: the app's exit code once it ended, :data:`DETACHED` when the caller detached,
        or 0 when the flavor closed without an exit code.
    """
    import selectors
    import signal
    import termios
    import tty as ttymod

    raw_mode = tty and os.isatty(0)
    saved = termios.tcgetattr(0) if raw_mode else None
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_winch = signal.signal(signal.SIGWINCH, lambda *_: os.write(wake_w, b"w")) if raw_mode else None
    try:
        if raw_mode:
            ttymod.setraw(0)
            size = _winsize(0)
            if size:
                sock.sendall(frame(RESIZE, size))
        return _copy(sock, selectors.DefaultSelector(), stdin, wake_r, detach_keys if raw_mode else b"")
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
        os.close(wake_r)
        os.close(wake_w)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _detach(data: bytes, keys: bytes) -> tuple[bytes, bytes, bool]:
    """``(bytes to send, bytes held back, detach?)``: a beginning of the key sequence at the end
    of ``data`` is held back until the next bytes say whether it completes the sequence."""
    if not keys:
        return data, b"", False
    at = data.find(keys)
    if at >= 0:
        return data[:at], b"", True
    for n in range(min(len(keys) - 1, len(data)), 0, -1):
        if data.endswith(keys[:n]):
            return data[:-n], data[-n:], False
    return data, b"", False


def _copy(sock: socket.socket, sel: object, stdin: bool, wake: int, keys: bytes) -> int:
    import selectors

    assert isinstance(sel, selectors.BaseSelector)
    sel.register(sock, selectors.EVENT_READ, "sock")
    sel.register(wake, selectors.EVENT_READ, "winch")
    if stdin:
        sel.register(0, selectors.EVENT_READ, "stdin")
    reader, typed = FrameReader(), b""
    while True:
        for key, _ in sel.select():
            if key.data == "winch":
                os.read(wake, 64)
                size = _winsize(0)
                if size:
                    sock.sendall(frame(RESIZE, size))
            elif key.data == "stdin":
                data = os.read(0, 65536)
                if not data:
                    sel.unregister(0)
                    sock.sendall(frame(CLOSE_STDIN))
                    continue
                data, typed, detach = _detach(typed + data, keys)
                if data:
                    sock.sendall(frame(STDIN, data))
                if detach:
                    return DETACHED
            else:
                data = sock.recv(65536)
                if not data:
                    return 0
                for kind, payload in reader.feed(data):
                    if kind == EXIT:
                        return int(payload or b"0")
                    _write_all(1 if kind == STDOUT else 2, payload)
