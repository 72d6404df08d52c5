"""An exclusive lock on a host-wide network directory, shared by rkt processes of every data directory."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from rkt.filelock import file_lock


def locked(d: Path, name: str = "lock") -> AbstractContextManager[None]:
    """Hold ``flock(LOCK_EX)`` on ``d/name`` (``d`` made if missing, root-only) for the ``with`` block."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return file_lock(d / name)
