"""The control channel of a coreos sandbox: a unix socket the supervisor listens on.

The socket and its first request are the SDK's app control protocol
(:mod:`rkt_sdk.appcontrol`, which the coreos flavor claims): ``stage1-data/control`` in the pod
directory, reached through an ``O_PATH`` descriptor of its directory since pod paths can be
longer than a socket address allows, and ``{"op": "start", "app": NAME}`` answered
``{"ok": true}`` or ``{"error": MESSAGE}``. The other requests are this flavor's own: one
JSON object on one line (``{"op": "stop", "app": NAME, ...}``, ``rm``, ``reopen``,
``attach``, ``prepare``), answered the same way. After an ``attach`` answer the connection
carries the app's streams (:mod:`rkt_stage1_coreos.attach`).

The client side (``rkt app start|stop|rm``, run once per command) speaks through the C
module ``_socket``, as :mod:`rkt_sdk.appcontrol` explains.
"""

from __future__ import annotations

import _socket
import json
import os

from rkt_sdk import appcontrol
from rkt_sdk.appcontrol import read_line
from rkt_sdk.errors import FlavorError

__all__ = ["connect", "listen", "notify_at_exit", "read_line", "request", "send"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from pathlib import Path
    from typing import Any


def listen(pod_path: str | os.PathLike[str]) -> socket.socket:
    """Bind and listen on the pod's control socket (the supervisor does, before it reports ready)."""
    return appcontrol.listen_in(appcontrol.data_dir(pod_path), appcontrol.NAME)


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
        try:
            return appcontrol.connect(pod_path)
        except OSError as e:
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
