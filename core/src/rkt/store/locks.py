"""Advisory file locks (flock) used by the store.

The store-wide lock (:meth:`rkt.store.layout.Layout.lock`, a :func:`rkt.filelock.file_lock`)
serialises the short critical sections that change what is visible in the store (moving a finished
blob or tree into place, removing images, cleaning leftovers). Each import also holds a lock on its
own temporary directory for its whole life, so a later process can tell a dead import's leftovers
(lock free) from a live one (lock held).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_dir(path: Path) -> int:
    """Open ``path`` (a directory) and take an exclusive lock on it without blocking; the fd holds it."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def is_abandoned(path: Path) -> bool:
    """Whether no live process holds the lock of the directory ``path`` (non-blocking probe)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
