"""Talk to a running pod's supervisor: ``enter`` a command, ``stop`` the pod.

Used by the ``enter`` and ``stop`` hooks of VM flavors, which run in another rkt process
than the pod's. The enter command's output is spooled by the guest to files of the exchange
share; this client copies them to its stdout and stderr as they grow, and its stdin to the
command's input spool as it comes (see :mod:`rkt_sdk.vm.protocol`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rkt_sdk.poddir import PodDir
from rkt_sdk.vm import protocol
from rkt_sdk.vm.errors import VMError
from rkt_sdk.vm.supervisor import SUPERVISOR_SOCKET
from rkt_sdk.vm.unixsock import connect_unix


class SupervisorUnreachable(VMError):
    """No supervisor answers for the pod (it has exited, or was killed)."""


class SupervisorClient:
    """A connection to one pod's supervisor socket."""

    def __init__(self, pod_path: Path, timeout: float = 5.0) -> None:
        path = PodDir(pod_path).path / "stage1-data" / SUPERVISOR_SOCKET
        try:
            self.sock = connect_unix(path, timeout)
        except OSError as e:
            raise SupervisorUnreachable(f"pod {pod_path.name}: no supervisor at {path}: {e.strerror}") from None
        self._buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, msg: dict[str, Any]) -> None:
        self.sock.sendall(protocol.dump(msg))

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or ``None`` if none came within ``timeout``.

        :raises SupervisorUnreachable: the supervisor went away.
        """
        while b"\n" not in self._buf:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as e:
                raise SupervisorUnreachable(f"pod supervisor: {e.strerror}") from None
            if not data:
                raise SupervisorUnreachable("the pod's supervisor closed the connection (the pod ended)")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        msg = json.loads(line)
        return msg if isinstance(msg, dict) else {}


def request_stop(pod_path: Path, force: bool, timeout: float) -> None:
    """Ask the pod's supervisor to stop the pod (gracefully, or at once with ``force``).

    :raises SupervisorUnreachable: nobody answers for the pod.
    """
    c = SupervisorClient(pod_path)
    try:
        c.send({"op": "stop", "force": force, "timeout": timeout})
        c.receive(5.0)
    finally:
        c.close()


def _copy_new(path: Path, offset: int, fd: int) -> int:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return offset
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    return offset + len(data)


class _StdinSpool:
    """Copies the caller's stdin to the enter's input spool, then marks its end."""

    def __init__(self, fd: int, spool: Path, eof: Path) -> None:
        self.fd = fd
        self.spool = spool
        self.eof = eof
        self.done = False

    def pump(self) -> None:
        """Copy what stdin has now (a regular file or /dev/null reads to its end at once)."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            with open(self.spool, "ab") as f:
                f.write(data)
            return
        self.close()

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.eof.touch()


def enter(pod_path: Path, app: str, argv: Sequence[str], out_fd: int = 1, err_fd: int = 2,
          poll: float = 0.05, in_fd: int | None = 0) -> int:
    """Run ``argv`` in ``app``'s root inside the VM; its output goes to ``out_fd``/``err_fd``.

    The command's stdin is ``in_fd`` (copied to the guest as it comes, until its end), or
    empty when ``in_fd`` is ``None``.

    :returns: the command's exit code (128+n when a signal n killed it).
    :raises SupervisorUnreachable: the pod is not running.
    :raises VMError: the supervisor refused (no such app, apps not running).
    """
    import selectors

    c = SupervisorClient(pod_path)
    paths: list[Path] = []
    sel = selectors.DefaultSelector()
    try:
        c.send({"op": "enter", "app": app, "argv": list(argv), "stdin": in_fd is not None})
        msg = c.receive(10.0)
        if msg is None:
            raise VMError(f"enter {app}: the pod's supervisor did not answer")
        if msg.get("ev") != "enter-started":
            raise VMError(str(msg.get("msg", f"enter {app}: refused")))
        paths = [Path(msg[k]) for k in ("out", "err", "in", "eof") if k in msg]
        stdin = _StdinSpool(in_fd, Path(msg["in"]), Path(msg["eof"])) if in_fd is not None and "in" in msg else None
        if stdin is not None:
            try:
                sel.register(stdin.fd, selectors.EVENT_READ)
            except (OSError, ValueError):  # a regular file or a closed fd: read it in the loop
                pass
        offsets = [0, 0]
        code: int | None = None
        while code is None:
            if stdin is not None and not stdin.done:
                if sel.get_map():
                    if sel.select(0):
                        stdin.pump()
                else:
                    stdin.pump()
                if stdin.done and sel.get_map():
                    sel.unregister(stdin.fd)
            try:
                done = c.receive(poll)
            except SupervisorUnreachable:
                done = {"ev": "entered", "code": 255}
            offsets = [_copy_new(p, o, fd) for p, o, fd in zip(paths[:2], offsets, (out_fd, err_fd), strict=True)]
            if done is not None and done.get("ev") == "entered":
                code = int(done.get("code", 255))
        for p, o, fd in zip(paths[:2], offsets, (out_fd, err_fd), strict=True):
            _copy_new(p, o, fd)
        return code
    finally:
        sel.close()
        c.close()
        for p in paths:
            try:
                p.unlink()
            except OSError:
                pass


def guest_status(pod_path: Path) -> dict[str, Any]:
    """What the supervisor knows (``ready``, ``exited``), or ``{}`` when the pod is not running."""
    try:
        c = SupervisorClient(pod_path, timeout=1.0)
    except SupervisorUnreachable:
        return {}
    try:
        c.send({"op": "status"})
        return c.receive(2.0) or {}
    except (SupervisorUnreachable, OSError, ValueError):
        return {}
    finally:
        c.close()
