"""A front for a test registry that sends blob downloads elsewhere, as registries backed by
object storage do: ``GET /v2/<repo>/blobs/<digest>`` answers ``307`` to a blob server on
another host name (``localhost`` instead of ``127.0.0.1``), which serves the bytes from the
registry's storage and records the headers it was sent. Everything else is passed through.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.registry import Registry

_BLOB = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")


def _serve(handler: Any) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class BlobRedirector:
    """``host`` is the front's ``127.0.0.1:PORT``; ``blob_headers`` what each blob request carried."""

    def __init__(self, registry: Registry) -> None:
        self.blob_headers: list[dict[str, str]] = []
        front = self

        class Blobs(_Quiet):
            def do_GET(self) -> None:
                front.blob_headers.append(dict(self.headers.items()))
                digest = self.path.rpartition("/")[2]
                self.reply(200, {"Content-Type": "application/octet-stream"},
                           registry.blob_path(digest).read_bytes())

        class Front(_Quiet):
            def do_GET(self) -> None:
                m = _BLOB.match(self.path)
                if m:
                    self.reply(307, {"Location": f"http://localhost:{front._blob_port}/blobs/{m.group(1)}"}, b"")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                req = urllib.request.Request(f"http://{registry.host}{self.path}", headers=headers)
                try:
                    resp = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30)
                except urllib.error.HTTPError as e:
                    resp = e
                self.reply(resp.status, dict(resp.headers.items()), resp.read())

        self._blobs, self._blob_port = _serve(Blobs)
        self._front, port = _serve(Front)
        self.host = f"127.0.0.1:{port}"

    def stop(self) -> None:
        for s in (self._front, self._blobs):
            s.shutdown()
            s.server_close()
