"""Rendering one OCI layer into its own tree, with whiteouts in overlayfs' form.

A layer is a tar of paths relative to the image's root. Every rule that guards an ACI guards
a layer (:class:`~rkt.store.extract.TreeWriter`: no absolute or escaping names, nothing
written through a symlink, no device nodes, size and entry caps). Entries land under
``<tree>/rootfs``.

Whiteouts, as the OCI image spec writes them, become what an overlay mount applies:

- ``DIR/.wh.NAME`` hides ``DIR/NAME`` of the layers below: a 0:0 character device ``DIR/NAME``;
- ``DIR/.wh..wh..opq`` hides everything below in ``DIR``: ``trusted.overlay.opaque=y`` on ``DIR``.

A whiteout is created with the same descriptor-relative, no-follow calls as any entry, inside
this layer's own tree, so it can never reach (or delete) anything outside it: the lower layers
are never written, an overlay mount merely hides what the whiteout names.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

from rkt.store.extract import EntryError, Extracted, Limits, TreeWriter, UnsafeEntry, show, tar_entries
from rkt.store.stream import HashingReader

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
ROOTFS = "rootfs"


class LayerWriter(TreeWriter):
    """A :class:`TreeWriter` that also writes whiteouts and opaque markers."""

    def __init__(self, root: Path) -> None:
        os.mkdir(root / ROOTFS, 0o755)
        super().__init__(root)
        self._kinds[ROOTFS] = "d"

    def _opaque_fd(self, fd: int) -> None:
        os.setxattr(fd, OPAQUE_XATTR, b"y")

    def opaque(self, entry: str, parts: tuple[str, ...]) -> None:
        """Mark the directory ``parts[:-1]`` opaque (making it if this layer has not)."""
        self._opaque_fd(self._parent(entry, parts))

    def whiteout(self, entry: str, parts: tuple[str, ...], name: str) -> None:
        """Hide ``name`` in the directory of ``parts`` from the layers below."""
        if not name or name in (".", "..") or "/" in name:
            raise UnsafeEntry(f'entry "{show(entry)}" is a whiteout of "{show(name)}", which is not a name')
        pfd = self._parent(entry, parts)
        path = "/".join((*parts[:-1], name))
        old = self._kinds.get(path)
        if old == "d":
            self._opaque_fd(self._dirfd(path))
            return
        if old is not None:
            return  # this layer's own entry already hides the lower one
        os.mknod(name, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=pfd)
        self._kinds[path] = "w"

    def add(self, ti: tarfile.TarInfo, parts: tuple[str, ...], data: HashingReader) -> None:
        path = "/".join(parts)
        if self._kinds.get(path) == "w":  # an entry after its own whiteout replaces it
            os.unlink(parts[-1], dir_fd=self._parent(ti.name, parts))
            del self._kinds[path]
            super().add(ti, parts, data)
            if ti.isdir():
                self._opaque_fd(self._dirfd(path))
            return
        super().add(ti, parts, data)


def _rooted(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    if ti.type == tarfile.LNKTYPE:
        ti = ti.replace(linkname=f"{ROOTFS}/{ti.linkname.lstrip('/')}" if not ti.linkname.startswith("/")
                        else ti.linkname, deep=False)
    return ti


def extract_layer(data: HashingReader, dest: Path, limits: Limits) -> Extracted:
    """Extract the layer tar read from ``data`` into ``dest/rootfs`` (``dest`` is empty).

    Raises what :func:`rkt.store.extract.extract_aci` raises.
    """
    writer = LayerWriter(dest)
    entries = 0
    try:
        for ti, parts in tar_entries(data, limits):
            entries += 1
            full = (ROOTFS, *parts)
            leaf = parts[-1]
            if any(p.startswith(WHITEOUT) for p in parts[:-1]):
                raise UnsafeEntry(f'entry "{show(ti.name)}" is under a whiteout')
            try:
                if leaf == OPAQUE:
                    writer.opaque(ti.name, full)
                elif leaf.startswith(WHITEOUT):
                    writer.whiteout(ti.name, full, leaf[len(WHITEOUT):])
                else:
                    writer.add(_rooted(ti), full, data)
            except OSError as e:
                raise EntryError(f'entry "{show(ti.name)}" cannot be extracted: {e.strerror}') from None
        writer.finish()
    finally:
        writer.close()
    return Extracted(data.hexdigest(), data.total, None, entries)
