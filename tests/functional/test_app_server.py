"""``rkt app add`` handed to the sandbox's own rkt process (its app server): the caller's
directory, umask, stdio and exit status; signals passed on; a killed caller's command killed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.functional.conftest import RKT, wait_for


def _server(sandbox: Any) -> int:
    """The pid of the sandbox's app server: a child of ``rkt app sandbox`` named so."""
    stage0 = sandbox.proc.pid
    for child in Path(f"/proc/{stage0}/task/{stage0}/children").read_text().split():
        if Path(f"/proc/{child}/comm").read_text().strip() == "rkt app server":
            return int(child)
    raise AssertionError("the sandbox has no app server")


def _server_children(sandbox: Any) -> list[int]:
    """The workers of the sandbox's app server."""
    server = _server(sandbox)
    return [int(c) for c in Path(f"/proc/{server}/task/{server}/children").read_text().split()]


def test_app_add_runs_in_the_sandboxs_process_as_the_caller(sandbox: Any, busybox: str, tmp_path: Path) -> None:
    """The caller loads next to nothing; the command sees the caller's directory and umask, and
    its errors and exit status reach the caller."""
    assert (sandbox.path / "rkt" / "app-server").is_socket()
    where = tmp_path / "here"
    where.mkdir()
    shutil.copy(busybox, where / "local.aci")
    argv = [sys.executable, "-X", "importtime", str(RKT), f"--dir={sandbox.rkt.data}", "--insecure-options=image",
            "app", "add", sandbox.uuid, "./local.aci", "--name=rel", "--exec=/bin/true"]
    p = subprocess.run(argv, cwd=where, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: os.umask(0o077))
    assert p.returncode == 0, p.stderr
    imported = set(re.findall(r"^import time:.*\|\s*(\S+)$", p.stderr, re.M))
    assert "rkt.cli.served" in imported
    heavy = {"pathlib", "json", "re", "rkt.podflow.apps", "rkt.store", "rkt_stage1_coreos"}
    assert not imported & heavy, imported & heavy
    assert "rel" in sandbox.apps()
    assert (sandbox.path / "rkt" / "created" / "rel").stat().st_mode & 0o777 == 0o600  # the caller's umask
    r = sandbox.rkt("--insecure-options=image", "app", "add", sandbox.uuid, "./local.aci", "--name=other")
    assert (r.code, r.err) == (254, 'app: image "./local.aci": no such file\n')  # from another directory
    r = sandbox.rkt("--insecure-options=image", "app", "add", sandbox.uuid, busybox, "--name=rel")
    assert r.code == 254 and 'already has an app "rel"' in r.err
    r = sandbox.rkt("app", "add", sandbox.uuid, "example.com/nosuch:1.0", "--name=none")
    assert r.code == 254 and r.err.startswith("app: unable to find image"), str(r)
    assert "none" not in sandbox.apps()


class _Silent:
    """A loopback HTTP server that accepts connections and never answers: a fetch that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_callers_signals_reach_its_command_and_its_death_ends_it(sandbox: Any) -> None:
    server = _Silent()
    try:
        url = f"http://127.0.0.1:{server.port}/hangs.aci"
        argv = sandbox.rkt.argv(("--insecure-options=image,http", "app", "add", sandbox.uuid, url, "--name=h"))
        for sig, code in ((signal.SIGINT, 130), (signal.SIGKILL, -9)):
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_for(lambda: server.conns and _server_children(sandbox), what="the command fetching")
            p.send_signal(sig)
            assert p.wait(timeout=20) == code
            wait_for(lambda: not _server_children(sandbox), what="the command gone with its caller")
            server.conns.clear()
        assert "h" not in sandbox.apps()
    finally:
        server.close()


def test_a_stopped_sandbox_serves_nothing(rkt: Any, tmp_path: Path, busybox: str) -> None:
    from tests.functional.test_app_sandbox import start_sandbox

    sb = start_sandbox(rkt, tmp_path, "--net=host")
    sb.add(busybox, "one", "exit 0")
    server = _server(sb)
    rkt.run_ok("stop", sb.uuid)
    sb.proc.communicate(timeout=20)
    assert not Path(f"/proc/{server}").exists()  # ended and reaped with the sandbox
    r = sb.rkt("--insecure-options=image", "app", "add", sb.uuid, busybox, "--name=two")
    assert r.code == 254 and "is not running" in r.err, str(r)


def test_garbage_on_the_server_socket_changes_nothing(sandbox: Any, busybox: str) -> None:
    path = sandbox.path / "rkt" / "app-server"
    for junk in (b"", b"\x00\x00\x00\x05hello", b"\xff\xff\xff\x7f" + b"x" * 100, b"\x10\x00\x00\x00rkt-app-server-1"):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(f"/proc/self/fd/{os.open(path.parent, os.O_PATH)}/{path.name}")
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(16) == b""  # no command ran: no status
    sandbox.ok("add", sandbox.uuid, busybox, "--name=after", "--exec=/bin/true")
    assert set(sandbox.apps()) == {"after"}
