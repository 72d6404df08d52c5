"""What the VM supervisor answers to other rkt processes: ``stop``, ``enter`` and ``status``.

Clients (``rkt enter``, ``rkt stop``, ``rkt status``, see :mod:`rkt_sdk.vm.client`) connect to
the supervisor's socket and send one JSON object a line; each gets JSON lines back. An enter's
input and output go through spool files in the exchange share (``xchg/enter/<id>.{in,out,err,eof}``)
that the guest reads and writes; its exit code comes back as a control event of the guest.
"""

from __future__ import annotations

import json
import selectors
import socket

from rkt_sdk.vm import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Protocol

    from rkt_sdk.poddir import PodDir

    class Supervisor(Protocol):
        """What the requests ask of their supervisor (:class:`rkt_sdk.vm.supervisor.Supervisor`)."""

        pd: PodDir
        ready: bool
        exited: dict[str, int]
        shutdown_sent: bool
        stop_timeout: float

        @property
        def selector(self) -> selectors.BaseSelector: ...

        def app_key(self, app: str) -> int | str | None: ...

        def client_request(self, client: socket.socket, req: dict[str, Any]) -> bool: ...

        def send_guest(self, data: bytes) -> None: ...

        def request_stop(self, timeout: float) -> None: ...

        def force_off(self) -> None: ...


class ClientRequests:
    """The connected clients of one supervisor and their running enters."""

    def __init__(self, sup: Supervisor) -> None:
        self.sup = sup
        self._clients: dict[socket.socket, bytes] = {}
        self._enters: dict[int, socket.socket] = {}
        self._next_enter = 1

    def accept(self, listener: socket.socket) -> None:
        """Take a new client from the listening socket."""
        try:
            client, _ = listener.accept()
        except OSError:
            return
        self._clients[client] = b""
        self.sup.selector.register(client, selectors.EVENT_READ, "client")

    def data(self, client: socket.socket) -> None:
        """Read what ``client`` sent and answer each complete request line."""
        try:
            data = client.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        buf = self._clients[client] + data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                req = {}
            self._request(client, req if isinstance(req, dict) else {})
        if client in self._clients:
            self._clients[client] = buf

    def entered(self, eid: int, code: int) -> None:
        """The guest reports enter ``eid`` ended with ``code``: tell its client."""
        client = self._enters.pop(eid, None)
        if client is not None:
            self._reply(client, {"ev": "entered", "code": code})

    def close_all(self) -> None:
        """Drop every client (the supervisor is ending)."""
        for client in list(self._clients):
            self._drop(client)

    def reply(self, client: socket.socket, msg: dict[str, Any]) -> None:
        """Send ``msg`` to ``client`` (dropped if it went away)."""
        self._reply(client, msg)

    def _reply(self, client: socket.socket, msg: dict[str, Any]) -> None:
        try:
            client.sendall(protocol.dump(msg))
        except OSError:
            self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        if client in self._clients:
            del self._clients[client]
            self.sup.selector.unregister(client)
        for eid, c in list(self._enters.items()):
            if c is client:  # its command keeps running, but gets no more input
                del self._enters[eid]
                self._enter_paths(eid)["eof"].touch()
        client.close()

    def _enter_paths(self, eid: int) -> dict[str, Path]:
        """The spool files of enter ``eid`` in the exchange share: output, error, input, end of input."""
        spool = self.sup.pd.stage1_data / "xchg" / "enter"
        return {k: spool / f"{eid}.{k}" for k in ("out", "err", "in", "eof")}

    def _request(self, client: socket.socket, req: dict[str, Any]) -> None:
        op = req.get("op")
        sup = self.sup
        if op == "stop":
            if req.get("force"):
                sup.force_off()
            else:
                sup.request_stop(float(req.get("timeout", sup.stop_timeout)))
            self._reply(client, {"ev": "ok"})
        elif op == "enter":
            self._enter(client, req)
        elif op == "status":
            self._reply(client, {"ev": "status", "ready": sup.ready, "exited": sup.exited})
        elif not sup.client_request(client, req):
            self._reply(client, {"ev": "error", "msg": f"unknown request {op!r}"})

    def _enter(self, client: socket.socket, req: dict[str, Any]) -> None:
        sup = self.sup
        app = req.get("app")
        argv = req.get("argv")
        key = sup.app_key(app) if isinstance(app, str) else None
        if key is None or not isinstance(argv, list) or not argv:
            self._reply(client, {"ev": "error", "msg": f"enter: no app {app!r} in this pod or no command"})
            return
        if not sup.ready or sup.shutdown_sent:
            self._reply(client, {"ev": "error", "msg": "enter: the pod is not running its apps"})
            return
        eid = self._next_enter
        self._next_enter += 1
        paths = self._enter_paths(eid)
        paths["out"].parent.mkdir(parents=True, exist_ok=True)
        for k in ("out", "err", "in"):
            paths[k].write_bytes(b"")
        if not req.get("stdin"):
            paths["eof"].touch()
        self._enters[eid] = client
        self._reply(client, {"ev": "enter-started", **{k: str(v) for k, v in paths.items()}})
        sup.send_guest(protocol.cmd_enter(eid, key, [str(a) for a in argv]))
