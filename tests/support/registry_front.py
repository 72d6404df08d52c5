"""A front for a test registry that sends blob downloads elsewhere, as registries backed by
object storage do: ``GET /v2/<repo>/blobs/<digest>`` answers ``307`` to a blob server on
another host name (``localhost`` instead of ``127.0.0.1``), which serves the bytes from the
registry's storage and records the headers it was sent. Everything else is passed through.
"""

from __future__ import annotations

import re
import threading
import time
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

    def reply(self, status: int, headers: dict[str, str], body: bytes, rate: int = 0) -> None:
        """Send ``body``; at most ``rate`` bytes a second when ``rate`` is set."""
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not rate:
            self.wfile.write(body)
            return
        chunk = 64 << 10
        try:
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                time.sleep(chunk / rate)
        except OSError:
            pass  # the client went away


class BlobRedirector:
    """``host`` is the front's ``127.0.0.1:PORT``; ``blob_headers`` what each blob request carried.

    ``rate`` (bytes a second) slows blob downloads, so a test can interrupt one; the first
    ``failures`` blob requests get ``503 Service Unavailable``.
    """

    def __init__(self, registry: Registry, rate: int = 0, failures: int = 0) -> None:
        self.blob_headers: list[dict[str, str]] = []
        self.failures = failures
        front = self

        class Blobs(_Quiet):
            def do_GET(self) -> None:
                front.blob_headers.append(dict(self.headers.items()))
                if front.failures > 0:
                    front.failures -= 1
                    self.reply(503, {}, b"busy")
                    return
                digest = self.path.rpartition("/")[2]
                self.reply(200, {"Content-Type": "application/octet-stream"},
                           registry.blob_path(digest).read_bytes(), rate)

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
