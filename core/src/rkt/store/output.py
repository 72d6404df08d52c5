"""Copying an image out of the store: ``rkt image export`` and ``rkt image extract``/``render``.

Both write next to the destination under a temporary name and rename at the end, so an
error leaves no half-written file or directory behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from rkt.store.errors import ImageError, StoreError
from rkt.store.ids import short_id

if TYPE_CHECKING:
    from rkt.store import Store


def _check_dest(dest: Path, overwrite: bool, what: str) -> None:
    if os.path.lexists(dest) and not overwrite:
        raise StoreError(f'{what} "{dest}" already exists (use --overwrite to replace it)')
    if not dest.parent.is_dir():
        raise StoreError(f'{what} "{dest}": directory "{dest.parent}" does not exist')


def _replace(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest``, removing what was at ``dest``."""
    if os.path.isdir(dest) and not os.path.islink(dest):
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.rename(dest, old / "d")
        os.rename(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def export_aci(store: Store, image_id: str, dest: Path, *, overwrite: bool) -> None:
    """Write the image's uncompressed ACI to ``dest``."""
    from rkt.store.importer import copy_blob_tar

    _check_dest(dest, overwrite, "file")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            if _is_oci(store, image_id):
                _write_oci_aci(store, image_id, out, dest.parent)
            else:
                copy_blob_tar(store.layout, store.index, image_id, out, verify=store.verify)
        os.chmod(tmp, 0o644)
        _replace(Path(tmp), dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def extract_to(store: Store, image_id: str, dest: Path, *, rootfs_only: bool, overwrite: bool) -> None:
    """Extract the image from its blob into the directory ``dest`` (the rootfs only if asked)."""
    from rkt.store.extract import EntryError, extract_aci
    from rkt.store.importer import check_digest, open_blob
    from rkt.store.stream import HashingReader, StreamError

    _check_dest(dest, overwrite, "directory")
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        if _is_oci(store, image_id):
            tree = _oci_tree(store, image_id, work)
            _replace(tree / "rootfs" if rootfs_only else tree, dest)
            return
        tree = work / "tree"
        tree.mkdir(mode=0o755)
        raw, stream = open_blob(store.layout, store.index, image_id)
        with raw:
            try:
                result = extract_aci(HashingReader(stream, store.limits.max_size), tree, store.limits)
            except (EntryError, StreamError) as e:
                raise ImageError(f'image "{short_id(image_id)}": {e}') from None
        if store.verify:
            check_digest(image_id, result.digest)
        _replace(tree / "rootfs" if rootfs_only else tree, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _is_oci(store: Store, image_id: str) -> bool:
    from rkt.store.oci_images import is_oci

    return is_oci(store, image_id)


def _oci_tree(store: Store, image_id: str, work: Path) -> Path:
    """An ACI-shaped tree of an OCI image in ``work``: its appc manifest and its flattened rootfs."""
    tree = work / "tree"
    tree.mkdir(mode=0o755)
    (tree / "manifest").write_text(store.manifest_json(image_id))
    store.flatten(image_id, tree / "rootfs")
    return tree


def _write_oci_aci(store: Store, image_id: str, out: BinaryIO, scratch: Path) -> None:
    """Write an OCI image as an uncompressed ACI (appc manifest and flattened rootfs) to ``out``."""
    import tarfile

    work = Path(tempfile.mkdtemp(prefix=".export-", dir=scratch))
    try:
        tree = _oci_tree(store, image_id, work)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            tf.add(tree / "manifest", arcname="manifest")
            tf.add(tree / "rootfs", arcname="rootfs")
    finally:
        shutil.rmtree(work, ignore_errors=True)
