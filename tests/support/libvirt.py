"""Start the libvirt daemons for tests that need them, and stop them after.

``libvirt_daemons()`` is a context manager: if ``qemu:///system`` already answers it does
nothing (whatever socket or pid files exist, only a real connection counts); otherwise it
starts ``virtlogd`` and ``libvirtd`` (each only if not already running), waits until the
connection works, and on exit stops exactly the processes it started, never one it found.
A daemon it started is left running when libvirt still runs domains it did not make
(another test run on the same host is using it).
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


def _pid(path: Path, binary: str) -> int | None:
    """The pid in ``path`` if that process is alive and runs ``binary`` (not a reused pid)."""
    try:
        pid = int(path.read_text().strip())
        exe = os.readlink(f"/proc/{pid}/exe")
    except (OSError, ValueError):
        return None
    return pid if exe.removesuffix(" (deleted)") == binary else None


def _foreign_domains(uri: str = URI) -> list[str]:
    """Active domains other than the ones our tests make (``rkt-<uuid>``)."""
    import libvirt

    libvirt.registerErrorHandler(lambda *_: None, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return []
    try:
        return [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                if not d.name().startswith("rkt-")]
    finally:
        conn.close()


def _stop(pid: int, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


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
            if _pid(pidfile, binary) is None:
                subprocess.run([binary, "-d"], check=True, timeout=timeout)
                deadline = time.monotonic() + timeout
                while (pid := _pid(pidfile, binary)) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                if pid is not None:
                    started.append(pid)
        deadline = time.monotonic() + timeout
        while not reachable() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield reachable()
    finally:
        if started and _foreign_domains():
            started = []  # someone else's VMs run on these daemons now: leave them be
        for pid in reversed(started):
            _stop(pid)
