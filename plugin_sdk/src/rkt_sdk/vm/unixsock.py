"""Unix sockets at paths of any length.

A pod directory can be deep enough for ``stage1-data/supervisor.sock`` to exceed the 108
bytes of ``sun_path``; binding and connecting through ``/proc/self/fd/<dir>/<name>`` keeps
the address short whatever the directory's path.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _via_dir(path: Path, op: str, sock: socket.socket) -> None:
    if len(os.fsencode(str(path))) < 100:
        getattr(sock, op)(str(path))
        return
    dfd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        getattr(sock, op)(f"/proc/self/fd/{dfd}/{path.name}")
    finally:
        os.close(dfd)


def listen_unix(path: Path) -> socket.socket:
    """A listening stream socket bound at ``path`` (an old socket file there is replaced)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    _via_dir(path, "bind", s)
    os.chmod(path, 0o600)
    s.listen(8)
    return s


def connect_unix(path: Path, timeout: float | None = 5.0) -> socket.socket:
    """A stream socket connected to ``path``.

    :raises OSError: nobody listens there.
    """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    s.settimeout(timeout)
    try:
        _via_dir(path, "connect", s)
    except OSError:
        s.close()
        raise
    return s
