"""The control channel of a coreos sandbox: a unix socket the supervisor listens on.

The socket is ``stage1-data/control`` in the pod directory. Paths of pod directories can
be longer than a socket address allows, so both ends reach it through an ``O_PATH``
descriptor of its directory (``/proc/self/fd/N/control``).

A request is one JSON object on one line (``{"op": "start", "app": NAME}``...); the answer
is one JSON object on one line: ``{"ok": true, ...}`` or ``{"error": MESSAGE}``. After an
``attach`` answer the connection carries the app's streams (:mod:`rkt_stage1_coreos.attach`).

The client side (``rkt app start|stop|rm``, run once per command) speaks through the C
module ``_socket``: the ``socket`` module around it turns every constant into an enum when
imported, a few ms of a command that only connects, sends a line and reads one.
"""

from __future__ import annotations

import _socket
import json
import os
from contextlib import contextmanager

from rkt_sdk.errors import FlavorError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

NAME = "control"
#: longest request or answer line
MAX_LINE = 1 << 16


@contextmanager
def _in_dir(pod_path: str | os.PathLike[str]) -> Iterator[str]:
    d = os.open(os.path.join(pod_path, "stage1-data"), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{d}/{NAME}"
    finally:
        os.close(d)


def listen(pod_path: str | os.PathLike[str]) -> socket.socket:
    """Bind and listen on the pod's control socket (the supervisor does, before it reports ready)."""
    import socket

    os.makedirs(os.path.join(pod_path, "stage1-data"), exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    with _in_dir(pod_path) as addr:
        try:
            os.unlink(addr)
        except FileNotFoundError:
            pass
        s.bind(addr)
        os.chmod(addr, 0o600)
    s.listen(16)
    return s


def read_line(sock: _socket.socket) -> bytes:
    """One line from ``sock`` (without its newline); ``b""`` at end of file.

    Reads no further than the newline (peeking first): after an ``attach`` answer, frames follow.
    """
    buf = bytearray()
    while len(buf) < MAX_LINE:
        peek = sock.recv(4096, _socket.MSG_PEEK)
        if not peek:
            break
        end = peek.find(b"\n")
        buf += sock.recv(end + 1 if end >= 0 else len(peek))
        if end >= 0:
            return bytes(buf[:-1])
    return bytes(buf)


def send(sock: _socket.socket, obj: dict[str, Any]) -> None:
    sock.sendall(json.dumps(obj).encode() + b"\n")


def connect(pod_path: Path, uuid: str, wait: float = 10.0) -> socket.socket:
    """A connection to the pod's supervisor (see :func:`_connect`)."""
    import socket

    return socket.socket(fileno=_connect(pod_path, uuid, wait).detach())


def _connect(pod_path: Path, uuid: str, wait: float = 10.0) -> _socket.socket:
    """A connection to the pod's supervisor.

    A sandbox just started may not listen yet (``rkt list`` shows it, and ``--uuid-file-save``
    names it, from the moment it is prepared): the socket is waited for up to ``wait`` seconds
    while the pod's supervisor runs.

    :raises FlavorError: the pod's supervisor does not answer (the pod is not a running sandbox).
    """
    import errno
    import time

    deadline = time.monotonic() + wait
    while True:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            with _in_dir(pod_path) as addr:
                s.connect(addr)
            return s
        except OSError as e:
            s.close()
            waiting = e.errno in (errno.ENOENT, errno.ECONNREFUSED) and _supervisor_runs(pod_path)
            if not waiting or time.monotonic() > deadline:
                raise FlavorError(f"pod {uuid}: its supervisor does not answer ({e.strerror})") from None
        time.sleep(0.02)


def _supervisor_runs(pod_path: Path) -> bool:
    from rkt_sdk.poddir import PodDir

    pid = PodDir(pod_path).read_pid()
    if pid is None:
        return True  # not recorded yet: the pod is starting
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


#: connections kept open until this process exits (see :func:`notify_at_exit`)
_HELD: list[_socket.socket] = []


def notify_at_exit(pod_path: Path, uuid: str, obj: dict[str, Any]) -> None:
    """Send one request that the supervisor acts on once this process has exited (its end of the
    connection closes then); no answer. A supervisor that does not listen is left alone."""
    try:
        s = _connect(pod_path, uuid, wait=0.0)
    except FlavorError:
        return
    try:
        s.settimeout(1.0)
        send(s, obj)
    except OSError:
        s.close()
        return
    _HELD.append(s)


def request(pod_path: Path, uuid: str, obj: dict[str, Any], timeout: float | None = 30.0) -> dict[str, Any]:
    """Send one request and return the answer.

    :raises FlavorError: no answer, or the supervisor's error message.
    """
    s = _connect(pod_path, uuid)
    try:
        s.settimeout(timeout)
        send(s, obj)
        line = read_line(s)
    except OSError as e:
        raise FlavorError(f"pod {uuid}: no answer from its supervisor ({e})") from None
    finally:
        s.close()
    try:
        answer = json.loads(line)
    except ValueError:
        raise FlavorError(f"pod {uuid}: its supervisor ended the request without an answer") from None
    if not isinstance(answer, dict):
        raise FlavorError(f"pod {uuid}: malformed answer from its supervisor")
    if "error" in answer:
        raise FlavorError(str(answer["error"]))
    return answer
