"""Where rkt works: the paths under its data directory (``--dir``, default ``/var/lib/rkt``),
and the :class:`Environment` every library call of a command takes."""

from __future__ import annotations

from pathlib import Path

from rkt.podstates import POD_STATES
from rkt_sdk.record import Record

__all__ = ["POD_STATES", "DataDir", "Environment"]

#: Pod state directories, in lifecycle order.


class DataDir:
    """Named paths under the data directory; creates nothing by itself."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pods(self) -> Path:
        return self.root / "pods"

    def pod_state_dir(self, state: str) -> Path:
        """``pods/<state>``; ``state`` is one of :data:`POD_STATES`."""
        return self.root / "pods" / state

    @property
    def store(self) -> Path:
        """The image store (blobs, trees, index)."""
        return self.root / "cas"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def cache(self) -> Path:
        """Caches that can be rebuilt (flavor index, VM initramfs)."""
        return self.root / "cache"

    @property
    def net(self) -> Path:
        """Network state of this data dir (leases of pods set up before leases became host-wide)."""
        return self.root / "net"


class Environment(Record):
    """Where rkt works: its data directory, config directories, and the global flags."""

    data: DataDir
    config_dirs: tuple[Path, ...]
    insecure: frozenset[str] = frozenset()
    debug: bool = False
    trust_keys_from_https: bool = False
