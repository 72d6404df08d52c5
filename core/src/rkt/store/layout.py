"""Where things live under the store root, and the temporary area imports work in.

::

    <root>/index.db                 the SQLite index
    <root>/lock                     flock taken to change what is visible
    <root>/blobs/sha512-<hex>       each image's archive, as it was fetched
    <root>/trees/deps-sha512-<hex>/ each rendered image: manifest, rootfs/, rendered
    <root>/signatures/sha512-<hex>.asc  the signature an image was verified with
    <root>/signatures/sha512-<hex>.simple.json  a registry image's simple-signing signatures
    <root>/tmp/<kind>-<random>/     work of one import or render, locked by its process

Anything under ``tmp/`` is invisible to readers. Blobs and trees reach their final name
with one ``rename`` once complete, so no reader ever sees half of one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from rkt.store.locks import is_abandoned, lock_dir

#: File in a tree directory written last, after the tree is synced to disk.
RENDERED = "rendered"


class Layout:
    """Paths of one store; creates nothing until :meth:`ensure` is called."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.trees = root / "trees"
        self.tmp = root / "tmp"
        self.signatures = root / "signatures"
        self.index = root / "index.db"
        self.lockfile = root / "lock"

    def ensure(self) -> None:
        """Make the store's directories (idempotent)."""
        for d in (self.root, self.blobs, self.trees):
            d.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.tmp.mkdir(mode=0o700, exist_ok=True)

    def blob(self, image_id: str) -> Path:
        return self.blobs / image_id

    def signature(self, image_id: str) -> Path:
        """The detached signature an image was verified with when it was fetched."""
        return self.signatures / f"{image_id}.asc"

    def registry_signatures(self, image_id: str) -> Path:
        """The simple-signing signatures a registry image was verified with (:mod:`rkt.trust.kept`)."""
        return self.signatures / f"{image_id}.simple.json"

    def tree(self, tree_id: str) -> Path:
        return self.trees / tree_id

    def lock(self) -> AbstractContextManager[None]:
        """The store-wide lock (blocks while another process holds it)."""
        from rkt.filelock import file_lock

        return file_lock(self.lockfile)

    @contextmanager
    def workdir(self, kind: str) -> Iterator[Path]:
        """A fresh locked directory under ``tmp/``, removed on exit whatever happens.

        Leftovers of processes that died are removed first (see :meth:`clean_abandoned`).
        """
        import shutil
        import tempfile

        self.ensure()
        with self.lock():
            dead = self._claim_abandoned()
            path = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.tmp))
            fd = lock_dir(path)
        remove_paths(dead)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
            os.close(fd)

    def clean_abandoned(self) -> list[Path]:
        """Remove what dead imports left under ``tmp/``; returns what was removed."""
        if not self.tmp.is_dir():
            return []
        with self.lock():
            dead = self._claim_abandoned()
        remove_paths(dead)
        return dead

    def _claim_abandoned(self) -> list[Path]:
        # Called with the store lock held: a live import locks its directory before the
        # store lock is released, so an unlocked directory here is a dead one's.
        dead: list[Path] = []
        try:
            names = os.listdir(self.tmp)
        except FileNotFoundError:
            return dead
        for name in names:
            p = self.tmp / name
            if name.startswith("dead-") or is_abandoned(p):
                q = self.tmp / f"dead-{name.removeprefix('dead-')}"
                try:
                    if q != p:
                        os.rename(p, q)
                    dead.append(q)
                except OSError:
                    pass
        return dead


def remove_paths(paths: list[Path]) -> None:
    import shutil

    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                p.unlink()
            except OSError:
                pass


def sync_filesystem(path: Path) -> None:
    """Flush everything written to the filesystem holding ``path`` (``syncfs``)."""
    import ctypes

    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def seal_tree(tree: Path, label: str, durable: bool) -> None:
    """Write a complete tree's ``rendered`` marker, after its content is on disk."""
    if durable:
        sync_filesystem(tree)
    fd = os.open(tree / RENDERED, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, (label + "\n").encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def place_tree(layout: Layout, work: Path, tree: Path, tree_id: str, durable: bool) -> Path:
    """Rename a sealed tree to ``trees/<tree_id>`` unless a rendered one is there (store lock held)."""
    final = layout.tree(tree_id)
    if (final / RENDERED).is_file():
        return final
    if final.exists():
        os.rename(final, work / f"stale-{tree_id}")
    os.rename(tree, final)
    if durable:
        fsync_dir(layout.trees)
    return final
