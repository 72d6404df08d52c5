"""Time a raw QEMU boot of the guest kernel to a marker line: the peer VM flavors are measured against.

``raw_boot_times()`` boots ``qemu-system-x86_64 -kernel … -initrd …`` with the same kernel
and the flavor's initramfs, whose init prints :data:`~rkt_sdk.vm.guest.PROBE_MARKER` as its
first act when ``rkt.probe`` is on the command line, and measures the wall time from starting
QEMU to reading the marker. ``python -m rkt_sdk.vm.bench`` prints the times as JSON.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from rkt_sdk.vm.errors import VMError
from rkt_sdk.vm.guest import PROBE_MARKER
from rkt_sdk.vm.qemu import raw_boot_argv
from rkt_sdk.vm.settings import VMSettings


def time_boot(argv: list[str], timeout: float = 60.0) -> float:
    """Seconds from starting ``argv`` until :data:`PROBE_MARKER` appears on its stdout.

    :raises VMError: the marker never came (QEMU failed, or ``timeout`` passed).
    """
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdout is not None
    seen = b""
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(p.stdout, selectors.EVENT_READ)
            while PROBE_MARKER.encode() not in seen:
                left = start + timeout - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise VMError(f"raw boot: no marker within {timeout:g}s")
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    raise VMError(f"raw boot: QEMU exited ({p.wait()}) before the marker")
                seen += chunk
        return time.monotonic() - start
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()


def raw_boot_times(runs: int = 3, settings: VMSettings | None = None, accel: str = "tcg",
                   direct: bool = False) -> list[float]:
    """Boot times of the bare kernel + initramfs (``direct``: the unpacked PVH kernel, as the flavors boot it)."""
    from rkt_sdk.vm.initramfs import build_initramfs
    from rkt_sdk.vm.kernel import find_kernel, unpacked_kernel

    vs = settings or VMSettings()
    kernel = find_kernel(vs.kernel, vs.modules_dir)
    initramfs = build_initramfs(kernel, vs.cache_dir, extra_modules=vs.initramfs_modules,
                                extra_files=vs.initramfs_files)
    image = unpacked_kernel(kernel, vs.cache_dir) if direct else kernel.path
    argv = raw_boot_argv(vs.qemu_binary, image, initramfs, accel, "microvm")
    return [time_boot(argv) for _ in range(runs)]


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cache = Path(sys.argv[2]) if len(sys.argv) > 2 else VMSettings().cache_dir
    vs = VMSettings(cache_dir=cache)
    out = {"bzImage": raw_boot_times(runs, vs), "direct": raw_boot_times(runs, vs, direct=True)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
