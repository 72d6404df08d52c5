"""The pod lock: a flock(2) on the pod directory itself.

A pod is "running" exactly while some process holds its lock exclusively; when the pod's
processes die, the kernel releases the lock, so a crashed pod is seen as exited. The
lock follows the directory through renames between state directories, because a rename
keeps the inode.

``acquire`` never blocks unless asked to; ``wait`` blocks until the holder lets go.
"""

from __future__ import annotations

import errno
import fcntl
import os

from rkt_sdk.errors import RktError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


class PodLocked(RktError):
    """Another process holds the pod's lock (the pod is running or being changed)."""


class DirLock:
    """An open directory and the flock taken on it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def acquire(cls, path: Path, *, shared: bool = False, blocking: bool = False) -> DirLock:
        """Open ``path`` and lock it; raise :class:`PodLocked` if held (non-blocking)."""
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            op = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
            fcntl.flock(fd, op)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise PodLocked(f"pod {path.name} is locked by another process") from None
            raise
        return cls(path, fd)

    def inheritable(self) -> int:
        """Make the lock fd survive exec (for the pod process) and return it."""
        os.set_inheritable(self.fd, True)
        return self.fd

    def release(self) -> None:
        """Unlock and close. Safe to call twice."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> DirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(path: str | os.PathLike[str]) -> bool:
    """Whether some process holds the lock of ``path`` exclusively. Never blocks.

    Loads no ``pathlib``: :mod:`rkt.cli.quick` asks it with a plain path.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(fd)


def wait_unlocked(path: Path, timeout: float | None = None) -> bool:
    """Block until nobody holds ``path``'s lock; False if ``timeout`` seconds passed first."""
    if timeout is None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        finally:
            os.close(fd)
        return True
    import time

    deadline = time.monotonic() + timeout
    while is_locked(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
