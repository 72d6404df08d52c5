"""What checking an ACI's signature costs on top of fetching it: the large ACI over loopback HTTP.

The same ``rkt fetch http://127.0.0.1:PORT/big.aci`` into a fresh store, once with the
signature checked (``sqv`` where installed, else ``gpgv``, against a key trusted as a root key,
fed the download as it streams) and once with ``--insecure-options=image``. The key is made by
gpg in a temporary home; the server is Python's ``http.server`` in a subprocess, the same for both.

The stores are on the workspace's tmpfs, so the ratio is the check's cost against rkt's own
work. On the disk it varied between runs from 0.8x to 1.25x: the bench's root filesystem is
ext4 without a journal, which skips inodes freed in the last minutes when it allocates new
ones, so every store deleted before a fetch (by this suite, the suites before it, or anyone)
made that fetch's file creation slower by 0.3 to 1.8 s of system time. Ten rounds, because
two runs of the same fetch still differ by a tenth or more.

Where the cost lies (2 vCPUs): GnuPG 2.2's gpgv hashes a detached signature's data a byte at a
time, about 0.62 s of CPU for the 210 MiB, as long as rkt's whole import of it; beside the
import the signed fetch cost 1.3-1.45x. sqv 1.1 (Sequoia, Nettle) hashes it in about 0.13 s of
CPU (0.17 s with reading it from a pipe); rkt's own share (the pipe, the key listing, the
signature's request) is about 0.05 s of CPU. Measured with sqv: 1.03-1.13x on an idle
machine, 1.16-1.26x while another test suite ran, since those 0.2 s of CPU compete with the
import and the server for the two CPUs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from bench.bigimage import MIB
from bench.context import Context
from bench.suites.image import _big, _empty
from bench.timing import BenchError, Result, Subject, compare
from bench.workspace import RKT

#: timed rounds of each subject (``--quick``: the usual count for heavy measurements)
ROUNDS = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(root: str, port: int) -> subprocess.Popen[bytes]:
    p = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, str(port)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise BenchError("verify: the loopback HTTP server did not start")


def run(ctx: Context) -> list[Result]:
    """``verify.signed`` against ``verify.insecure`` (the same fetch with ``--insecure-options=image``)."""
    from tests.support.gpg import GpgHome

    ws = ctx.ws
    aci, size = _big(ctx)
    serve_dir = ws.root / "verify-www"
    serve_dir.mkdir(exist_ok=True)
    served = serve_dir / "big.aci"
    if not served.exists():
        os.link(aci, served)
    home = GpgHome(ws.root / "verify-gnupg")
    key = home.new_key("Bench Signer <bench@example.com>")
    key.sign(served)
    conf = ws.root / "verify-config"
    trusted = conf / "local" / "trustedkeys" / "root.d" / key.fingerprint
    trusted.parent.mkdir(parents=True, exist_ok=True)
    trusted.write_bytes(key.public.read_bytes())
    (conf / "system").mkdir(exist_ok=True)
    port = _free_port()
    server = _serve(str(serve_dir), port)
    url = f"http://127.0.0.1:{port}/big.aci"
    signed_data = ws.data_dir("verify-signed", in_memory=True)
    insecure_data = ws.data_dir("verify-insecure", in_memory=True)

    def argv(data: object, insecure: str) -> list[str]:
        return [str(RKT), f"--dir={data}", f"--system-config={conf / 'system'}", f"--local-config={conf / 'local'}",
                f"--insecure-options={insecure}", "fetch", url]

    mb = f"{size / MIB:.0f} MiB rootfs"
    subjects = [
        Subject("verify.insecure", f"rkt fetch over loopback HTTP, --insecure-options=image ({mb})",
                argv(insecure_data, "http,image"), setup=lambda: _empty(ws, insecure_data), env=ws.env, warmup=False),
        Subject("verify.signed", f"the same fetch with its signature checked ({mb})", argv(signed_data, "http"),
                setup=lambda: _empty(ws, signed_data), env=ws.env, peer="verify.insecure", warmup=False),
    ]
    rounds = ctx.reps("heavy") if ctx.quick else ROUNDS
    ctx.say(f"verify: {len(subjects)} subjects x {rounds} rounds")
    try:
        return compare("verify", subjects, rounds)
    finally:
        server.kill()
        server.wait()
        home.close()
        for d in (signed_data, insecure_data):
            _empty(ws, d)
