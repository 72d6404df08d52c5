"""The store's side of OCI images: committing one, rendering its trees, its layers, flattening.

An OCI image is stored as its manifest (``blobs/<id>``, the id being the manifest's sha512),
its config and layers (``blobs/sha256-...``), a tree per layer, and an image tree holding
the appc manifest rkt runs and the list of its layers. See :mod:`rkt.store.oci`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rkt.store.ids import short_id, tree_id
from rkt.store.layout import RENDERED, place_tree
from rkt.store.oci import (
    OCI_FORMAT,
    blob_name,
    layer_rendered,
    layer_tree_id,
    manifest_layers,
    place_blob,
    read_layers,
    write_image_tree,
)
from rkt.store.records import ImageRecord

if TYPE_CHECKING:
    from rkt.store import Store


class OciImage:
    """What committing an OCI image needs; the blobs it names must be stored already (layers)
    or be given here (config)."""

    def __init__(self, manifest: bytes, config: bytes, config_digest: str, layers: list[str],
                 appc_manifest: str, name: str, labels: dict[str, str], size: int) -> None:
        self.manifest = manifest
        self.config = config
        self.config_digest = config_digest
        self.layers = layers
        self.appc_manifest = appc_manifest
        self.name = name
        self.labels = labels
        self.size = size


def image_id_of(manifest: bytes) -> str:
    """An OCI image's id: ``sha512-`` and the sha512 of its manifest's bytes."""
    import hashlib

    return "sha512-" + hashlib.sha512(manifest).hexdigest()


def keep_signatures(store: Store, work: Path, image_id: str, signatures: bytes) -> None:
    """Keep what a registry image was verified with, for ``rkt image verify`` (store lock held)."""
    import os

    tmp = work / "signatures"
    tmp.write_bytes(signatures)
    store.layout.signatures.mkdir(mode=0o755, exist_ok=True)
    os.replace(tmp, store.layout.registry_signatures(image_id))


def commit_image(store: Store, image: OciImage, work: Path, staged: list[str],
                 signatures: bytes | None = None) -> ImageRecord:
    """Make an image visible, with the layers staged in ``work`` (:func:`~rkt.store.layer_ingest.stage_layer`).

    One step under the store lock: the staged layers' blobs and trees, the config and manifest
    blobs, the signatures it was verified with (if any), the image's tree, and last its index
    row. Every other layer must be stored already.
    """
    from rkt.store.layer_ingest import commit_layer

    layout, durable = store.layout, store.durable
    image_id = image_id_of(image.manifest)
    (work / "config").write_bytes(image.config)
    (work / "manifest").write_bytes(image.manifest)
    write_image_tree(work / "tree", image.appc_manifest, image.layers, image_id, durable)
    now = time.time_ns()
    rec = ImageRecord(image_id, image.name, image.labels, now, now, image.size)
    with layout.lock():
        for digest in staged:
            commit_layer(layout, work, digest, durable)
        missing = [d for d in image.layers if not (layout.blobs / blob_name(d)).is_file()]
        if missing:  # removed by a concurrent gc: the caller fetches again
            from rkt.store.errors import ImageError

            raise ImageError(f"layer {missing[0]} vanished from the store while the image was stored; "
                             "fetch it again")
        place_blob(layout, work / "config", blob_name(image.config_digest), durable)
        place_tree(layout, work, work / "tree", tree_id(image_id), durable)
        if signatures is not None:
            keep_signatures(store, work, image_id, signatures)
        place_blob(layout, work / "manifest", image_id, durable)
        return store.index.insert(rec, image.appc_manifest, OCI_FORMAT, len(image.manifest))




def image_tree(store: Store, full: str) -> Path:
    """An image's tree, made again from the store if gc removed it; its layers' trees rendered too."""
    layout = store.layout
    tree = layout.tree(tree_id(full))
    layers = read_layers(tree) if (tree / RENDERED).is_file() else None
    if layers is None:
        layers = _rebuild_tree(store, full)
    for digest in layers:
        if not layer_rendered(layout, digest):
            from rkt.store.layer_ingest import render_stored_layer

            render_stored_layer(layout, digest, store.limits, short_id(full), durable=store.durable)
    return tree


def _rebuild_tree(store: Store, full: str) -> list[str]:
    layout = store.layout
    _, layers = manifest_layers((layout.blobs / full).read_bytes())
    appc = store.manifest_json(full)
    with layout.workdir("image") as work:
        write_image_tree(work / "tree", appc, layers, full, store.durable)
        with layout.lock():
            place_tree(layout, work, work / "tree", tree_id(full), store.durable)
    return layers


def is_oci(store: Store, full: str) -> bool:
    """Whether a stored image is an OCI image (its tree lists layers, or its index row says so)."""
    tree = store.layout.tree(tree_id(full))
    if (tree / RENDERED).is_file():
        return (tree / "layers").is_file()
    return store.index.blob_format(full) == OCI_FORMAT


def rootfs_layers(store: Store, tree: Path) -> tuple[Path, ...]:
    """The read-only root directories of the image whose tree is ``tree``, topmost first."""
    layers = read_layers(tree)
    if layers is None:
        return (tree / "rootfs",)
    return tuple(store.layout.tree(layer_tree_id(d)) / "rootfs" for d in reversed(layers))


def tree_ids(store: Store, full: str) -> tuple[str, ...]:
    """The ids of the trees an image's root filesystem lives in: its own tree, then its layers' (top first)."""
    own = tree_id(full)
    tree = store.layout.tree(own)
    layers = read_layers(tree)
    if layers is None and not (tree / RENDERED).is_file() and store.index.blob_format(full) == OCI_FORMAT:
        _, layers = manifest_layers((store.layout.blobs / full).read_bytes())
    return (own, *(layer_tree_id(d) for d in reversed(layers or [])))


def referenced_blobs(store: Store) -> set[str]:
    """Names in ``blobs/`` that a stored image needs (its own blob, and an OCI image's config and layers)."""
    keep: set[str] = set()
    for rec in store.index.all():
        keep.add(rec.id)
        if store.index.blob_format(rec.id) == OCI_FORMAT:
            try:
                config, layers = manifest_layers((store.layout.blobs / rec.id).read_bytes())
            except (OSError, ValueError, KeyError):
                continue
            keep.update(blob_name(d) for d in (config, *layers))
    return keep



def remove_orphan_blobs(store: Store) -> None:
    """Remove the blobs no stored image needs (see :func:`referenced_blobs`)."""
    import os

    try:
        names = os.listdir(store.layout.blobs)
    except FileNotFoundError:
        return
    with store.layout.lock():
        keep = referenced_blobs(store)
        for name in names:
            if name not in keep:
                try:
                    os.unlink(store.layout.blobs / name)
                except OSError:
                    pass
