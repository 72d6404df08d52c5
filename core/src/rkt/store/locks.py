"""Advisory file locks (flock) used by the store.

``StoreLock`` serialises the short critical sections that change what is visible in the
store (moving a finished blob or tree into place, removing images, cleaning leftovers).
Each import also holds a lock on its own temporary directory for its whole life, so a
later process can tell a dead import's leftovers (lock free) from a live one (lock held).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class StoreLock:
    """An exclusive lock on a file; blocks until it is free. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> StoreLock:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        os.close(self._fd)  # closing releases the lock
        self._fd = -1


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
