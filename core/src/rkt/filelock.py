"""A blocking exclusive ``flock(2)`` on a lock file, for the short critical sections of rkt's processes.

The store's lock, the host-wide network locks and a mutable pod's ``rkt app`` lock are all
this one lock on different files; the kernel releases it if the holder dies. (A pod's own
lock, on its directory, lives with the pods: :mod:`rkt.pods.lock`.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``path`` (created ``0600`` if missing) for the ``with`` block; blocks until free."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
