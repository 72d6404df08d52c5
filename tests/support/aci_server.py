"""A small HTTP(S) file server for ACIs with ETags, as a static web server serves them.

``files`` maps a path (``/app.aci``) to bytes. Each answer carries an ``ETag`` (a hash of the
bytes) and the ``Cache-Control`` given; a request whose ``If-None-Match`` names the current
ETag gets ``304 Not Modified``. ``log`` records ``(path, status)`` of every request.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.registry_tls import TlsFiles


class AciServer:
    """Started on 127.0.0.1 (a free port); HTTPS when ``tls`` is given."""

    def __init__(self, tls: TlsFiles | None = None, cache_control: str | None = None,
                 authorization: str | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.cache_control = cache_control
        self.authorization = authorization
        self.log: list[tuple[str, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.cert, tls.key)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.base = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def of(self, path: str) -> list[int]:
        """The statuses of the requests for ``path``, in order."""
        return [status for p, status in self.log if p == path]

    def downloads(self, path: str) -> int:
        """How many times ``path`` was sent in full."""
        return sum(1 for p, status in self.log if p == path and status == 200)

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        if self.authorization is not None and h.headers.get("Authorization") != self.authorization:
            self.log.append((h.path, 401))
            h.send_error(401, "Unauthorized")
            return
        data = self.files.get(h.path)
        if data is None:
            self.log.append((h.path, 404))
            h.send_error(404, "Not Found")
            return
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        status = 304 if h.headers.get("If-None-Match") == etag else 200
        self.log.append((h.path, status))
        h.send_response(status)
        h.send_header("ETag", etag)
        if self.cache_control:
            h.send_header("Cache-Control", self.cache_control)
        if status == 304:
            h.end_headers()
            return
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
