"""The caller's side of a sandbox's app server (:mod:`rkt.podflow.appserver`): hand it this command.

Imports only :mod:`os`, ``_socket`` and ``_signal``: the point is to load nothing.
"""

from __future__ import annotations

import os
import sys

from rkt.podflow.appserver import FORWARDED, MAGIC

TYPE_CHECKING = False
if TYPE_CHECKING:
    import _socket


def run_served(socket_path: str, argv: list[str]) -> int | None:
    """Run ``rkt argv`` in the app server listening at ``socket_path``; its exit status.

    None when nothing was handed over (no server answers, or this process lacks a stdin,
    stdout or stderr to pass): the caller then runs the command itself.
    """
    import _socket

    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None
    sock = _connect(socket_path)
    if sock is None:
        return None
    try:
        cwd = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        sock.close()
        return None
    try:
        block = _request(argv)
        fds = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2, cwd))
        sock.sendmsg([len(block).to_bytes(4, "little"), block[:65000]],
                      [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        if len(block) > 65000:
            sock.sendall(block[65000:])
    except OSError:
        sock.close()
        return None
    finally:
        os.close(cwd)
    return _wait(sock)


def _connect(socket_path: str) -> _socket.socket | None:
    from rkt_sdk.appcontrol import connect_in

    try:
        return connect_in(os.path.dirname(socket_path), os.path.basename(socket_path))
    except OSError:
        return None


def _request(argv: list[str]) -> bytes:
    """The request block: magic, umask, argc, argv, environment (NUL-separated)."""
    umask = os.umask(0o022)
    os.umask(umask)
    words = [MAGIC, b"%o" % umask, b"%d" % len(argv), *(os.fsencode(a) for a in argv),
             *(k + b"=" + v for k, v in os.environb.items())]
    if any(b"\0" in w for w in words):
        raise OSError("a NUL byte in the command or its environment")
    return b"\0".join(words)


def _wait(sock: _socket.socket) -> int:
    """The command's exit status, passing on the signals this process gets meanwhile."""
    import _signal

    def forward(signum: int, _frame: object) -> None:
        try:
            sock.send(bytes([signum]))
        except OSError:
            pass

    for signum in FORWARDED:
        _signal.signal(signum, forward)
    answer = b""
    try:
        while len(answer) < 4:
            chunk = sock.recv(4 - len(answer))
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    if len(answer) < 4:
        sys.stderr.write("app: the sandbox's rkt process ended before the command did\n")
        return 254
    return int.from_bytes(answer, "little", signed=True)

