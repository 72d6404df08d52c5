"""A sandbox's rkt process runs ``rkt app add`` for its callers, already warm.

``rkt app sandbox`` stays in the foreground as long as its pod runs, with rkt's modules
loaded. It listens on :attr:`PodDir.app_server_path <rkt_sdk.poddir.PodDir.app_server_path>`
(root only), and for each connection forks a worker that becomes the caller's
``rkt app ...`` command: the caller's argv, environment, umask, working directory and
stdin/stdout/stderr (passed as descriptors), run by the command line's entry point (which the
CLI hands to :func:`serve_in_background`) as if the caller had started it. The caller
(:mod:`rkt.cli.quick`) then pays for an interpreter and a few system calls instead of loading
rkt, which costs more than the add itself.

Nothing changes for the command but the process that runs it: same code, same output, same
exit status. The server is a child of the sandbox's rkt process and dies with it. The
command's life stays the caller's: a signal the caller gets (SIGINT, SIGTERM, SIGHUP)
is passed on to the worker, and a caller that dies without a word (SIGKILL) takes the worker
with it, so a killed ``rkt app add`` leaves what a killed process leaves (see
:mod:`rkt.podflow.apps`). One command runs at a time; the ``rkt app`` commands of a pod are
serialised by its app lock anyway.

**Protocol** (:data:`MAGIC`). The caller sends one message carrying its stdin, stdout, stderr
and an ``O_PATH`` descriptor of its working directory, and a length-prefixed block of NUL-separated
fields: magic, umask (octal), argc, argv..., then ``NAME=VALUE`` environment entries. While the
command runs, each byte the caller sends is a signal number to pass on. The answer is the
command's exit status, 4 bytes little-endian (128+N for a worker killed by signal N).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Sequence
    from pathlib import Path

#: the first field of a request: this protocol and its version
MAGIC = b"rkt-app-server-1"
#: the largest request accepted (argv and environment)
MAX_REQUEST = 1 << 20
#: how long a caller may take to send its request, in seconds
REQUEST_TIMEOUT = 5.0
#: the signals a caller may pass on to its command
FORWARDED = frozenset({1, 2, 15})  # SIGHUP, SIGINT, SIGTERM


def serve_in_background(pod_path: Path, command: Callable[[list[str]], object],
                        warm: Sequence[str] = ()) -> Callable[[], None]:
    """Listen on the pod's app server socket and serve it from a child process, as long as this one lives.

    A process of its own, not a thread: this process goes on to fork the pod's own processes,
    and a fork taken while a thread imports a module leaves that module's lock held for good
    in the child. The server dies with this process (``PR_SET_PDEATHSIG``), ignores the
    terminal's SIGINT (meant for the pod), and keeps no descriptor of this process but its socket.

    :param command: what a worker runs with the caller's argv (the words after ``rkt``), its
        stdio and environment in place; it ends the process with the command's exit status.
    :param warm: modules the server imports once, before it serves, so that no worker has to.
    :returns: what ends the server (and reaps it), once the pod has ended.
    """
    listener = _listen(pod_path)
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _be_the_server(listener, parent, command, tuple(warm))
        finally:
            os._exit(0)
    listener.close()

    def stop() -> None:
        import signal

        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    return stop


def _be_the_server(listener: socket.socket, parent: int, command: Callable[[list[str]], object],
                   warm: tuple[str, ...]) -> None:
    import importlib
    import signal

    from rkt_sdk.linux.ns import set_pdeathsig, set_process_name

    set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:
        return  # it died meanwhile
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    keep = listener.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)
    set_process_name("rkt app server")
    for name in warm:
        importlib.import_module(name)
    _serve(listener, command)


def _listen(pod_path: Path) -> socket.socket:
    from rkt_sdk.appcontrol import listen_in
    from rkt_sdk.poddir import PodDir

    path = PodDir(pod_path).app_server_path
    return listen_in(path.parent, path.name, backlog=8)


def _serve(listener: socket.socket, command: Callable[[list[str]], object]) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            _handle(conn, command)
        except (OSError, ValueError):
            pass  # a caller that went away or sent no request: nothing was started
        except Exception as e:  # a bad caller never ends the server
            sys.stderr.write(f"rkt: app server: {e}\n")
        finally:
            conn.close()


def _handle(conn: socket.socket, command: Callable[[list[str]], object]) -> None:
    import socket
    import struct

    if conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))[4:8] != struct.pack(
            "i", os.geteuid()):
        return  # only the user this rkt runs as (the socket's mode says so too)
    conn.settimeout(REQUEST_TIMEOUT)
    fds, request = _receive(conn)
    try:
        if len(fds) != 4:
            return
        umask, argv, env = _parse(request)
        pid = os.fork()
        if pid == 0:
            _become_the_command(fds, umask, argv, env, command)
    finally:
        for fd in fds:
            os.close(fd)
    conn.settimeout(None)
    status = _follow(conn, pid)
    try:
        conn.sendall(status.to_bytes(4, "little", signed=True))
    except OSError:
        pass


def _receive(conn: socket.socket) -> tuple[list[int], bytes]:
    """The descriptors and the request block the caller sent."""
    import array
    import socket

    fds = array.array("i")
    data, ancillary, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    block = bytearray(data)
    if len(block) < 4:
        return list(fds), b""
    size = int.from_bytes(block[:4], "little")
    if size > MAX_REQUEST:
        return list(fds), b""
    while len(block) < 4 + size:
        chunk = conn.recv(4 + size - len(block))
        if not chunk:
            break
        block += chunk
    return list(fds), bytes(block[4:])


def _parse(request: bytes) -> tuple[int, list[bytes], dict[bytes, bytes]]:
    """(umask, argv, environment) of a request block; ValueError if it is not one."""
    fields = request.split(b"\0")
    if len(fields) < 3 or fields[0] != MAGIC:
        raise ValueError("not an app server request")
    umask = int(fields[1], 8)
    argc = int(fields[2])
    if not 0 <= argc <= len(fields) - 3:
        raise ValueError("malformed request")
    argv = fields[3:3 + argc]
    env = dict(e.partition(b"=")[::2] for e in fields[3 + argc:] if b"=" in e)
    return umask, argv, env


def _become_the_command(fds: list[int], umask: int, argv: list[bytes], env: dict[bytes, bytes],
                        command: Callable[[list[str]], object]) -> None:
    """In the worker: take the caller's stdio, directory, umask and environment, and run ``command(argv)``."""
    try:
        import signal

        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)  # the pod process forwards them to its pod; the command must not
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        os.fchdir(fds[3])
        os.closerange(3, 1 << 16)
        from rkt_sdk.linux.ns import set_process_name

        set_process_name("rkt")
        os.umask(umask)
        os.environb.clear()
        os.environb.update(env)
        words = [os.fsdecode(a) for a in argv]
        sys.argv = ["rkt", *words]
        _reopen_stdio()
        command(words)
    finally:
        os._exit(254)


def _reopen_stdio() -> None:
    """Text streams over the new descriptors 0-2, buffered as the interpreter would have made them."""
    sys.stdin = open(0, closefd=False, errors="surrogateescape")  # noqa: SIM115
    sys.stdout = open(1, "w", buffering=-1 if not os.isatty(1) else 1, closefd=False,  # noqa: SIM115
                      errors="surrogateescape")
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115


def _follow(conn: socket.socket, pid: int) -> int:
    """Wait for the worker, passing on the signals the caller sends; kill it if the caller is gone."""
    import selectors
    import signal

    sel = selectors.DefaultSelector()
    pidfd = os.pidfd_open(pid)
    try:
        sel.register(pidfd, selectors.EVENT_READ)
        sel.register(conn, selectors.EVENT_READ)
        while True:
            ready = {key.fileobj for key, _ in sel.select()}
            if pidfd in ready:
                break
            try:
                data = conn.recv(64)
            except OSError:
                data = b""
            if not data:  # the caller died: so does its command
                os.kill(pid, signal.SIGKILL)
                sel.unregister(conn)
                continue
            for sig in data:
                if sig in FORWARDED:
                    os.kill(pid, sig)
    finally:
        sel.close()
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
