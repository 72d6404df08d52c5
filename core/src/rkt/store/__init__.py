"""rkt's local image store: content-addressed blobs, rendered trees and a SQLite index.

:class:`Store` is the library API used by ``rkt fetch``, ``rkt image ...`` and by pod
preparation; what brings an image in from a reference is :func:`rkt.trust.fetching.fetch_image`,
a layer above. Images are ACIs (a tar holding ``manifest`` and ``rootfs/``, plain or
compressed); an image's id is ``sha512-<hex>`` of its uncompressed tar. Importing an image
also renders it: the tree a pod overlays read-only is ready when the import returns.

This module stays light to import (the heavy parts load when an image is imported), and
starting a pod from an image id never opens the index: a stored image is one whose blob is
in ``blobs/`` (the blob is moved there and removed under the store lock, with the index
row), its manifest is the rendered tree's ``manifest`` file, and its last use is the time
of the tree's ``rendered`` marker, which :meth:`Store.render` and :meth:`Store.touch`
refresh. The index keeps names, labels and times, and answers everything else.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rkt.store.errors import AmbiguousImageId, ImageError, ImageNotFound, StoreError
from rkt.store.ids import id_prefix, image_of_tree, is_full_id, short_id
from rkt.store.ids import tree_id as _tree_id
from rkt.store.index import Index
from rkt.store.layout import RENDERED, Layout
from rkt.store.records import ImageRecord
from rkt_sdk.record import replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.store.extract import Limits
    from rkt.store.importer import Check
    from rkt_sdk.appc import ImageManifest

__all__ = ["AmbiguousImageId", "ImageError", "ImageNotFound", "ImageRecord", "Store", "StoreError", "short_id"]

_FETCH_FIRST = 'fetch it first ("rkt fetch" of its ACI file)'

#: the file an OCI image's tree lists its layers in (:data:`rkt.store.oci.LAYERS`); an ACI's tree has none
_OCI_LAYERS = "layers"


class Store:
    """The image store rooted at ``root`` (``DataDir(data).store``); directories are made lazily.

    :param limits: caps on image size and entry count (default: :meth:`Limits.from_env`).
    :param durable: sync trees and blobs to disk before they become visible.
    :param verify: check a stored blob against its id whenever it is read again.
    """

    def __init__(self, root: Path, *, limits: Limits | None = None, durable: bool = True,
                 verify: bool = True) -> None:
        self.root = Path(root)
        self.layout = Layout(self.root)
        self.index = Index(self.layout.index)
        self._limits = limits
        self.durable = durable
        self.verify = verify
        self._manifests: dict[str, ImageManifest] = {}

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def limits(self) -> Limits:
        """Caps applied to imported archives."""
        if self._limits is None:
            from rkt.store.extract import Limits

            self._limits = Limits.from_env()
        return self._limits

    # -- finding images ----------------------------------------------------------------------
    def resolve(self, ref: str) -> ImageRecord:
        """The stored image ``ref`` names: an id (full or a unique prefix), ``name`` or ``name:version``.

        Raises :class:`ImageNotFound` (or :class:`AmbiguousImageId`); never fetches anything.
        """
        from rkt.store.refs import parse_ref

        r = parse_ref(ref)
        if r.kind == "id":
            return self._by_id(ref)
        if r.kind == "name":
            found = self._by_name(r.name, r.version)
            if found is None:
                raise ImageNotFound(f'unable to find image "{ref}" in the local store; {_FETCH_FIRST}')
            return found
        raise ImageNotFound(f'unable to find image "{ref}" in the local store: it is a file or URL; {_FETCH_FIRST}')

    def stored_id(self, ref: str) -> str | None:
        """The full id of the stored image ``ref`` names, if ``ref`` is an id (full or a unique prefix).

        Looked up among the blobs, without the index; None when ``ref`` is not an id or no
        blob has it (:func:`rkt.trust.fetching.fetch_image` then decides).
        """
        from rkt.store.refs import parse_ref

        if parse_ref(ref).kind != "id":
            return None
        try:
            prefix = id_prefix(ref)
        except ValueError as e:
            raise ImageNotFound(str(e)) from None
        found = self._blob_ids(prefix)
        if len(found) > 1:
            raise AmbiguousImageId(f'image id "{ref}" is ambiguous: {len(found)} images match it; '
                                   "give more digits")
        return found[0] if found else None

    def _blob_ids(self, prefix: str) -> list[str]:
        """Ids of the stored blobs starting with ``prefix``."""
        if is_full_id(prefix):
            return [prefix] if os.path.isfile(self.layout.blob(prefix)) else []
        try:
            names = os.listdir(self.layout.blobs)
        except FileNotFoundError:
            return []
        return [n for n in names if n.startswith(prefix)]

    def _by_id(self, ref: str) -> ImageRecord:
        try:
            prefix = id_prefix(ref)
        except ValueError as e:
            raise ImageNotFound(str(e)) from None
        if is_full_id(prefix):
            rec = self.index.get(prefix)
            rows = [rec] if rec is not None else []
        else:
            rows = self.index.by_prefix(prefix)
        if not rows:
            raise ImageNotFound(f'unable to find image "{ref}": no image with that id in the local store')
        if len(rows) > 1:
            raise AmbiguousImageId(f'image id "{ref}" is ambiguous: {len(rows)} images match it; give more digits')
        return self._with_use(rows[0])

    def _by_name(self, name: str, version: str | None) -> ImageRecord | None:
        rows = [self._with_use(r) for r in self.index.by_name(name)]
        if version is not None:
            exact = [r for r in rows if r.version == version]
            rows = exact if exact or version != "latest" else rows
        return max(rows, key=lambda r: (r.import_time, r.id)) if rows else None

    def find_name(self, name: str, version: str | None) -> ImageRecord | None:
        """The newest stored image called ``name`` (with label ``version`` if given), or None."""
        return self._by_name(name, version)

    def images(self) -> list[ImageRecord]:
        """Every stored image, oldest import first."""
        return [self._with_use(r) for r in self.index.all()]

    def _with_use(self, rec: ImageRecord) -> ImageRecord:
        """The record with its last use brought up to the tree marker's time (see the module doc)."""
        try:
            used = (self.layout.tree(_tree_id(rec.id)) / RENDERED).stat().st_mtime_ns
        except OSError:
            return rec
        return replace(rec, last_used=used) if used > rec.last_used else rec

    def _full(self, image_id: str) -> str:
        if is_full_id(image_id):
            if not os.path.isfile(self.layout.blob(image_id)) and self.index.get(image_id) is None:
                raise ImageNotFound(f'unable to find image "{image_id}": no image with that id in the local store')
            return image_id
        return self._by_id(image_id).id

    # -- getting images in -------------------------------------------------------------------
    def import_file(self, path: Path, display: str | None = None, check: Check | None = None) -> ImageRecord:
        """Import the ACI file at ``path`` (``display``: how to name it in errors).

        ``check``, a signature check running on ``path``, must pass before anything is kept.
        """
        from rkt.store.importer import import_archive

        return import_archive(self.layout, self.index, Path(path), display or str(path), self.limits, self.durable,
                              check)

    def signature(self, image_id: str) -> Path | None:
        """The signature a stored image was verified with when fetched (None: fetched unverified)."""
        path = self.layout.signature(self._full(image_id))
        return path if path.is_file() else None

    def registry_signatures(self, image_id: str) -> bytes | None:
        """What a registry image's signatures were kept as when it was pulled (None: pulled unverified)."""
        try:
            return self.layout.registry_signatures(self._full(image_id)).read_bytes()
        except FileNotFoundError:
            return None

    def blob_path(self, image_id: str) -> Path:
        """The stored archive of an image, as it was fetched."""
        return self.layout.blob(self._full(image_id))

    # -- using images --------------------------------------------------------------------------
    def manifest(self, image_id: str) -> ImageManifest:
        """The parsed image manifest of a stored image (from its rendered tree when there is one)."""
        from rkt_sdk.appc import ImageManifest

        full = self._full(image_id)
        m = self._manifests.get(full)
        if m is None:
            tree = self.layout.tree(_tree_id(full))
            try:
                raw: str | bytes = (tree / "manifest").read_bytes() if (tree / RENDERED).is_file() else b""
            except OSError:
                raw = b""
            m = ImageManifest.from_json(raw or self.manifest_json(full))
            self._manifests[full] = m
        return m

    def manifest_json(self, image_id: str) -> str:
        """The image manifest exactly as the archive held it."""
        full = self._full(image_id)
        text = self.index.manifest(full)
        if text is None:
            raise ImageNotFound(f'unable to find image "{image_id}": no image with that id in the local store')
        return text

    def tree_id(self, image_id: str) -> str:
        """The id of the image's rendered tree (what a pod writes in ``appsinfo/<app>/treeStoreID``).

        A full id needs no lookup (the image may be gone); an abbreviated one is resolved.
        """
        return _tree_id(image_id if is_full_id(image_id) else self._full(image_id))

    def render(self, image_id: str) -> Path:
        """The image's rendered tree directory (for an ACI, ``<returned>/rootfs`` is the root filesystem).

        Renders it again from the blobs if ``image gc`` removed it (for an OCI image, its
        layers' trees too). Pods must treat it as read-only; see :meth:`rootfs_layers`.
        """
        full = self._full(image_id)
        tree = self.layout.tree(_tree_id(full))
        marker = tree / RENDERED
        if (tree / "layers").is_file() or (not marker.is_file() and self.index.blob_format(full) == "oci"):
            from rkt.store.oci_images import image_tree

            tree = image_tree(self, full)
        elif not marker.is_file():
            from rkt.store.importer import render_blob

            tree = render_blob(self.layout, self.index, full, self.limits, durable=self.durable,
                               verify=self.verify)
        self._mark_used(tree)
        return tree

    def rootfs_layers(self, image_id: str) -> tuple[Path, ...]:
        """The image's read-only root filesystem directories, topmost first (overlayfs ``lowerdir`` order).

        An ACI has one (``render(id) / "rootfs"``); an OCI image one per layer. Renders on demand.
        """
        tree = self.render(image_id)
        if not (tree / _OCI_LAYERS).exists():  # an ACI's tree: no need for the OCI code
            return (tree / "rootfs",)
        from rkt.store.oci_images import rootfs_layers

        return rootfs_layers(self, tree)

    def tree_ids(self, image_id: str) -> tuple[str, ...]:
        """The ids of the trees :meth:`rootfs_layers` lie in (what a pod records for gc)."""
        full = image_id if is_full_id(image_id) else self._full(image_id)
        tree = self.layout.tree(_tree_id(full))
        if (tree / RENDERED).is_file() and not (tree / _OCI_LAYERS).exists():  # a rendered ACI: one tree
            return (_tree_id(full),)
        from rkt.store.oci_images import tree_ids

        return tree_ids(self, full)

    def flatten(self, image_id: str, dest: Path) -> None:
        """Copy the image's merged root filesystem into ``dest`` (which must not exist)."""
        layers = self.rootfs_layers(image_id)
        if len(layers) == 1:
            import shutil

            shutil.copytree(layers[0], dest, symlinks=True)
            return
        from rkt.store.flatten import flatten_layers

        self.layout.ensure()
        flatten_layers(layers, Path(dest), self.layout.tmp)

    @staticmethod
    def _mark_used(tree: Path) -> None:
        now = time.time_ns()
        try:
            os.utime(tree / RENDERED, ns=(now, now))
        except OSError:
            pass

    def touch(self, image_id: str) -> None:
        """Record that the image was just used (``LAST USED`` in ``rkt image list``).

        Cheap: the time goes on the rendered tree's marker (no index write, nothing synced);
        the index learns it when the tree is removed.
        """
        full = self._full(image_id)
        tree = self.layout.tree(_tree_id(full))
        if (tree / RENDERED).is_file():
            self._mark_used(tree)
        else:
            self.index.touch(full, time.time_ns())

    # -- removing images -----------------------------------------------------------------------
    def remove(self, image_id: str) -> None:
        """Remove an image's row and blob. Its tree stays until :meth:`gc_trees` (pods may use it)."""
        full = self._full(image_id)
        with self.layout.lock():
            self.index.delete(full)
            for path in (self.layout.blob(full), self.layout.signature(full), self.layout.registry_signatures(full)):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass

    def gc_trees(self, in_use: set[str], grace_seconds: float = 0) -> list[str]:
        """Remove rendered trees not in ``in_use`` and not handed to a pod within ``grace_seconds``.

        Also removes what dead imports left in the store's temporary area. Returns the ids
        of the removed trees.
        """
        from rkt.store.trees import remove_trees

        self.layout.clean_abandoned()
        return remove_trees(self.layout, in_use, grace_seconds, on_remove=self._keep_use)

    def _keep_use(self, tree_id: str, used: int) -> None:
        """Save the last use a tree's marker held into the index, before the tree goes."""
        image_id = image_of_tree(tree_id)
        rec = self.index.get(image_id)
        if rec is not None and used > rec.last_used:
            self.index.touch(image_id, used)

    def gc_images(self, grace_seconds: float, in_use: set[str] | frozenset[str] = frozenset()) -> list[ImageRecord]:
        """Remove images not used for ``grace_seconds`` whose tree no pod uses; returns them."""
        limit = time.time_ns() - int(grace_seconds * 1e9)
        removed = []
        for rec in self.images():
            if rec.last_used < limit and _tree_id(rec.id) not in in_use:
                self.remove(rec.id)
                removed.append(rec)
        self._remove_orphan_blobs()
        return removed

    def _remove_orphan_blobs(self) -> None:
        from rkt.store.oci_images import remove_orphan_blobs

        remove_orphan_blobs(self)

    # -- copying images out ----------------------------------------------------------------------
    def export(self, image_id: str, dest: Path, *, overwrite: bool = False) -> None:
        """Write the image's uncompressed ACI (its id is the sha512 of this file) to ``dest``."""
        from rkt.store.output import export_aci

        export_aci(self, self._full(image_id), Path(dest), overwrite=overwrite)

    def extract(self, image_id: str, dest: Path, *, rootfs_only: bool = False, overwrite: bool = False) -> None:
        """Extract the image (``manifest`` and ``rootfs/``, or the rootfs only) into the new directory ``dest``."""
        from rkt.store.output import extract_to

        extract_to(self, self._full(image_id), Path(dest), rootfs_only=rootfs_only, overwrite=overwrite)
