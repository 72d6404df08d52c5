"""Debian's ``docker-registry`` (the CNCF distribution registry) on 127.0.0.1, for tests and benches.

``running_registry(workdir, ...)`` is a context manager that writes the registry's config
(filesystem storage under ``workdir``, a free loopback port), starts
``docker-registry serve CONFIG``, waits until it answers and stops it on exit. Options:
``tls`` (a test CA and server certificate; clients trust the CA through ``SSL_CERT_FILE``,
see :attr:`Registry.env`), ``users`` (htpasswd Basic auth with bcrypt hashes) or ``token``
(Bearer auth through :class:`tests.support.registry_token.TokenService`). The registry's
access log goes to :attr:`Registry.log`, where :meth:`Registry.requests` counts requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.registry_tls import TlsFiles, make_tls

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """A running registry: ``host`` (``127.0.0.1:PORT``), its storage dir, log and TLS files."""

    def __init__(self, host: str, storage: Path, log: Path, tls: TlsFiles | None,
                 users: dict[str, str] | None) -> None:
        self.host = host
        self.storage = storage
        self.log = log
        self.tls = tls
        self.users = users or {}

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def env(self) -> dict[str, str]:
        """Environment for clients: trust the test CA, and bypass any proxy for loopback."""
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        if self.tls:
            env["SSL_CERT_FILE"] = str(self.tls.ca)
        return env

    def ref(self, repo_tag: str) -> str:
        """``docker://127.0.0.1:PORT/<repo_tag>``."""
        return f"docker://{self.host}/{repo_tag}"

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (to tamper with them in tests)."""
        algo, _, hexd = digest.partition(":")
        return self.storage / "docker" / "registry" / "v2" / "blobs" / algo / hexd[:2] / hexd / "data"

    def requests(self, method: str = "GET", path_pattern: str = ".*") -> int:
        """How many requests of the access log match (a regular expression over the path)."""
        pat = re.compile(rf'"{re.escape(method)} (\S+) HTTP/[0-9.]+" (\d+)')
        want = re.compile(path_pattern)
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if (m := pat.search(line)) and want.fullmatch(m.group(1)))

    def push(self, src: str, repo_tag: str, *, fmt: str | None = None, all_images: bool = False,
             creds: str | None = None) -> None:
        """``skopeo copy SRC docker://HOST/REPO:TAG`` (``fmt``: ``v2s2`` or ``oci``)."""
        argv = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if fmt:
            argv.append(f"--format={fmt}")
        if all_images:
            argv.append("--all")
        if creds or self.users:
            argv.append(f"--dest-creds={creds or next(f'{u}:{p}' for u, p in self.users.items())}")
        argv += [src, self.ref(repo_tag)]
        subprocess.run(argv, check=True, capture_output=True, text=True, env=self.env, timeout=300)


def _htpasswd(path: Path, users: dict[str, str]) -> None:
    import bcrypt

    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}" for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n")


def registry_config(workdir: Path, port: int, tls: TlsFiles | None, users: dict[str, str] | None,
                    auth: dict[str, Any] | None) -> dict[str, Any]:
    """The registry's configuration (YAML is a superset of JSON, so it is written as JSON)."""
    http: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": "rkt-tests",
                            "headers": {"X-Content-Type-Options": ["nosniff"]}}
    if tls:
        http["tls"] = {"certificate": str(tls.cert), "key": str(tls.key)}
    conf: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}, "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": http,
    }
    if users:
        _htpasswd(workdir / "htpasswd", users)
        conf["auth"] = {"htpasswd": {"realm": "rkt-tests", "path": str(workdir / "htpasswd")}}
    elif auth:
        conf["auth"] = auth
    return conf


def _wait_up(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not listen within {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_registry(workdir: Path, *, tls: bool = False, users: dict[str, str] | None = None,
                     auth: dict[str, Any] | None = None) -> Iterator[Registry]:
    """Start a registry under ``workdir`` (made if missing) and stop it when the block ends.

    :param tls: serve HTTPS with a certificate from a fresh test CA (``Registry.tls.ca``).
    :param users: name -> password for htpasswd Basic auth.
    :param auth: a raw ``auth`` section (e.g. ``TokenService.registry_auth()``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    tls_files = make_tls(workdir / "tls") if tls else None
    conf = workdir / "config.yml"
    conf.write_text(json.dumps(registry_config(workdir, port, tls_files, users, auth), indent=1))
    log = workdir / "registry.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(conf)], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_up(proc, port, log)
        yield Registry(f"127.0.0.1:{port}", workdir / "storage", log, tls_files, users)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
