"""Start the libvirt daemons for tests that need them, and stop them after.

``libvirt_daemons()`` is a context manager: if ``qemu:///system`` already answers it does
nothing; otherwise it starts ``virtlogd`` and ``libvirtd`` as daemons, waits until the
connection works, and on exit stops exactly the processes it started (by their pid files).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

URI = "qemu:///system"
DAEMONS = (("/usr/sbin/virtlogd", Path("/run/virtlogd.pid")), ("/usr/sbin/libvirtd", Path("/run/libvirtd.pid")))


def reachable(uri: str = URI) -> bool:
    """Whether a libvirt connection to ``uri`` opens."""
    import libvirt

    libvirt.registerErrorHandler(lambda *_: None, None)
    try:
        libvirt.open(uri).close()
    except libvirt.libvirtError:
        return False
    return True


def _pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


@contextmanager
def libvirt_daemons(timeout: float = 20.0) -> Iterator[bool]:
    """Make ``qemu:///system`` reachable for the ``with`` block; yields whether it is."""
    if reachable():
        yield True
        return
    started: list[int] = []
    try:
        for binary, pidfile in DAEMONS:
            if not Path(binary).exists():
                yield False
                return
            if _pid(pidfile) is None:
                subprocess.run([binary, "-d"], check=True, timeout=timeout)
                deadline = time.monotonic() + timeout
                while (pid := _pid(pidfile)) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                if pid is not None:
                    started.append(pid)
        deadline = time.monotonic() + timeout
        while not reachable() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield reachable()
    finally:
        for pid in reversed(started):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
