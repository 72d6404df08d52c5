"""The app control socket: how stage0 starts an app of a mutable pod without loading its flavor.

``rkt app start`` is what an orchestrator runs most often, and loading a flavor and reading a
pod costs a short-lived command more than starting the app. A flavor whose pods have a
supervisor may serve the start itself: it claims
:attr:`Capabilities.control_socket <rkt_sdk.types.Capabilities>`, stage0 records that in the
pod's ``stage1`` file (:class:`~rkt_sdk.podrecords.Stage1Record`), and from then on
``rkt app start`` of that pod connects to the socket instead of calling
:func:`~rkt_sdk.hookspecs.rkt_stage1_app_start` (which the flavor still implements: stage0
calls it when the socket does not answer).

**The protocol.** The supervisor listens on the unix stream socket :data:`NAME` in the pod's
``stage1-data`` directory (:func:`listen_address`). Stage0 holds the pod's app lock
(:attr:`PodDir.app_lock_path <rkt_sdk.poddir.PodDir.app_lock_path>`), connects, and sends
one line, :func:`start_request`: ``{"op": "start", "app": NAME}``. The supervisor answers
one line once the app's process runs:

- exactly :data:`START_OK` (``{"ok": true}``): started, as the hook would have;
- ``{"error": MESSAGE}``: not started; stage0 prints ``MESSAGE`` and exits 254. The message
  names the pod and the app, as stage0's own would (``pod "UUID" has no app "NAME"``,
  ``app "NAME" of pod "UUID" is already running``).

The supervisor checks what the hook's caller would have: that the pod manifest on disk names
the app, and that it is not running. Other requests on the same socket are the flavor's own.

Only :mod:`os` and the C module ``_socket`` are imported here: the ``socket`` module turns
every constant into an enum when imported, a few ms of a command that sends one line.
"""

from __future__ import annotations

import _socket
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

#: the socket's name in the pod's ``stage1-data`` directory
NAME = "control"
#: the answer to a start that succeeded, byte for byte
START_OK = b'{"ok": true}'
#: longest request or answer line
MAX_LINE = 1 << 16


def data_dir(pod_path: str | os.PathLike[str]) -> str:
    """The directory holding the socket: ``stage1-data`` in the pod directory."""
    return os.path.join(pod_path, "stage1-data")


def listen_address(dir_fd: int) -> str:
    """The address of the socket through an ``O_PATH`` descriptor of :func:`data_dir`.

    Pod directories can be longer than a socket address allows; both ends bind and connect
    through ``/proc/self/fd/N/control`` instead.
    """
    return f"/proc/self/fd/{dir_fd}/{NAME}"


def connect(pod_path: str | os.PathLike[str]) -> _socket.socket:
    """A connection to the pod's supervisor (close-on-exec); :class:`OSError` if nobody listens."""
    return connect_in(data_dir(pod_path), NAME)


def connect_in(directory: str | os.PathLike[str], name: str) -> _socket.socket:
    """A connection to the unix socket ``name`` in ``directory``, through an ``O_PATH`` descriptor of
    the directory (a socket address holds at most 107 bytes); :class:`OSError` if nobody listens."""
    d = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            s.connect(f"/proc/self/fd/{d}/{name}")
        except OSError:
            s.close()
            raise
        return s
    finally:
        os.close(d)


def listen_in(directory: str | os.PathLike[str], name: str, backlog: int = 16) -> socket.socket:
    """Listen on the unix socket ``name`` in ``directory`` (made if missing), readable by this user only;
    a socket left there by a process that is gone is replaced."""
    import socket

    os.makedirs(directory, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    d = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        address = f"/proc/self/fd/{d}/{name}"
        try:
            os.unlink(address)
        except FileNotFoundError:
            pass
        s.bind(address)
        os.chmod(address, 0o600)
    except BaseException:
        s.close()
        raise
    finally:
        os.close(d)
    s.listen(backlog)
    return s


def read_line(sock: _socket.socket) -> bytes:
    """One line from ``sock`` (without its newline); ``b""`` at end of file.

    Reads no further than the newline (peeking first), so that what follows an answer
    (a flavor's own stream) stays in the socket.
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


def start_request(app: str) -> bytes:
    """The request line that starts ``app`` (an AC name: lower-case letters, digits and dashes).

    :raises ValueError: ``app`` is not an AC name (it would need escaping in JSON).
    """
    if not app or not all(c.isascii() and (c.isalnum() or c == "-") for c in app) or app != app.lower():
        raise ValueError(f"not an app name: {app!r}")
    return b'{"op": "start", "app": "%s"}\n' % app.encode()
