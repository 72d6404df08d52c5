"""An exclusive lock on a host-wide network directory, shared by rkt processes of every data directory."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(d: Path, name: str = "lock") -> Iterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``d/name`` (``d`` made if missing, root-only) for the ``with`` block."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(d / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
