"""appc discovery served for tests: HTTPS on port 443 of a private network namespace.

``DiscoveryHost(workdir, names)`` makes a named network namespace (``ip netns add``) whose
``/etc/hosts`` (``/etc/netns/<ns>/hosts``, which ``ip netns exec`` mounts in a private mount
namespace) sends ``names`` to 127.0.0.1, and starts there a static file server on 443 (HTTPS,
certificate from a fresh test CA naming ``names``) and on 80 (plain HTTP). ``argv(...)`` runs a
command inside the namespace; :attr:`env` holds ``SSL_CERT_FILE`` so rkt trusts the test CA.
Files are served from :attr:`root`: a request for ``/app?ac-discovery=1`` gets the file
``root/app`` (``root/index.html`` for ``/``); every request line goes to :attr:`log`.
``close()`` stops the servers and removes the namespace and its hosts file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.registry_tls import make_tls

SERVER = """
import http.server, ssl, sys, functools
root, port, log, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(log, "a") as f:
            f.write(("https " if cert else "http ") + (fmt % args) + "\\n")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(H, directory=root))
if cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"""


class DiscoveryHost:
    """A network namespace where ``names`` are this machine's loopback, served over HTTPS and HTTP."""

    def __init__(self, workdir: Path, names: tuple[str, ...]) -> None:
        self.ns = f"rkt-test-{os.getpid()}-{len(names)}-{int(time.monotonic() * 1000) % 100000}"
        self.root = workdir / "www"
        self.root.mkdir(parents=True)
        self.log = workdir / "requests.log"
        self.log.touch()
        self.tls = make_tls(workdir / "tls", names=names)
        self.env = dict(os.environ, SSL_CERT_FILE=str(self.tls.ca))
        self.hosts_dir = Path("/etc/netns") / self.ns
        self.procs: list[subprocess.Popen[bytes]] = []
        subprocess.run(["ip", "netns", "add", self.ns], check=True, timeout=30)
        try:
            self.hosts_dir.mkdir(parents=True)
            (self.hosts_dir / "hosts").write_text("127.0.0.1 localhost " + " ".join(names) + "\n")
            subprocess.run(self.argv("ip", "link", "set", "lo", "up"), check=True, timeout=30)
            for port, cert, key in ((443, str(self.tls.cert), str(self.tls.key)), (80, "", "")):
                self.procs.append(subprocess.Popen(
                    self.argv(sys.executable, "-c", SERVER, str(self.root), str(port), str(self.log), cert, key),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self._wait_up()
        except BaseException:
            self.close()
            raise

    def argv(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *args]

    def _wait_up(self) -> None:
        probe = "import socket,sys\nfor p in (443, 80): socket.create_connection(('127.0.0.1', p), 1).close()"
        for _ in range(100):
            if subprocess.run(self.argv(sys.executable, "-c", probe), capture_output=True, timeout=30).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("the discovery servers did not start")

    def put(self, path: str, data: bytes | str) -> Path:
        """Serve ``data`` at ``/path``."""
        dest = self.root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data.encode() if isinstance(data, str) else data)
        return dest

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines()

    def close(self) -> None:
        for p in self.procs:
            p.kill()
            p.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=30, check=False)
        if (self.hosts_dir / "hosts").exists():
            (self.hosts_dir / "hosts").unlink()
        if self.hosts_dir.exists():
            self.hosts_dir.rmdir()


def meta_page(*tags: tuple[str, str, str]) -> str:
    """An HTML page with discovery meta tags ``(name, prefix, url)``."""
    metas = "\n".join(f'    <meta name="{n}" content="{p} {u}">' for n, p, u in tags)
    return f"<!DOCTYPE html>\n<html>\n  <head>\n{metas}\n  </head>\n</html>\n"
