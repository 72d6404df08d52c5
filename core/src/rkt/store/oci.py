"""OCI images in the store: content-addressed blobs, one rendered tree per layer, and commits.

::

    <root>/blobs/sha256-<hex>        a layer or config blob, named by its digest
    <root>/blobs/sha512-<hex>        an image: its OCI/Docker manifest (the id is its sha512)
    <root>/trees/layer-sha256-<hex>/ a layer's rendered tree: rootfs/, rendered
    <root>/trees/deps-sha512-<hex>/  an image: manifest (appc), layers (digests, base first), rendered

Every blob is written to the import's work directory under ``tmp/`` while its digest is
computed, and renamed into ``blobs/`` (with its tree into ``trees/``) under the store lock
only once the digest matched: a reader never sees a blob whose bytes are not its name's.
A layer is committed as soon as it is complete, so a pull cut short leaves only whole layers
(no image names them until the image itself is committed, last, by its index row).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import BinaryIO

from rkt.store.errors import ImageError
from rkt.store.layout import RENDERED, Layout, fsync_dir, seal_tree
from rkt.store.stream import CHUNK

#: The index's ``blob_format`` of an OCI image.
OCI_FORMAT = "oci"
#: Prefix of a layer tree's id.
LAYER_PREFIX = "layer-"
#: File of an image tree listing its layers' digests, base layer first.
LAYERS = "layers"

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class DigestMismatch(ImageError):
    """A blob's bytes do not hash to its digest, or there are more or fewer of them than its size."""


def check_digest_syntax(digest: str, display: str) -> str:
    """``digest`` if it is a well-formed ``sha256:<64 hex>`` (the only algorithm accepted)."""
    if not _DIGEST.fullmatch(digest):
        raise ImageError(f'image "{display}": unsupported or malformed digest "{digest[:80]}"')
    return digest


def blob_name(digest: str) -> str:
    """The file name of a blob in ``blobs/``: ``sha256:ab..`` -> ``sha256-ab..``."""
    return digest.replace(":", "-", 1)


def blob_path(layout: Layout, digest: str) -> Path:
    return layout.blobs / blob_name(digest)


def layer_tree_id(digest: str) -> str:
    """The id of a layer's rendered tree: ``layer-sha256-<hex>``."""
    return LAYER_PREFIX + blob_name(digest)


def has_layer(layout: Layout, digest: str) -> bool:
    """Whether the layer's blob is stored (its tree can then be rendered without fetching)."""
    return blob_path(layout, digest).is_file()


def layer_rendered(layout: Layout, digest: str) -> bool:
    return (layout.tree(layer_tree_id(digest)) / RENDERED).is_file()


class DigestingWriter:
    """Writes a blob to ``path`` and hashes it; :meth:`verify` checks digest and size."""

    def __init__(self, path: Path, digest: str, size: int, display: str) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self.display = display
        self.written = 0
        self._hash = hashlib.sha256()
        self._out = open(path, "wb", buffering=CHUNK)  # noqa: SIM115 (closed by close/verify)

    def write(self, data: bytes) -> None:
        self.written += len(data)
        if self.written > self.size:
            raise DigestMismatch(f'image "{self.display}": blob {self.digest} is longer than the '
                                 f"{self.size} bytes its manifest gives")
        self._hash.update(data)
        self._out.write(data)

    def close(self) -> None:
        self._out.close()

    def verify(self, durable: bool) -> None:
        """Flush and check; :class:`DigestMismatch` if the bytes are not the blob's."""
        if durable:
            self._out.flush()
            os.fsync(self._out.fileno())
        self._out.close()
        got = "sha256:" + self._hash.hexdigest()
        if got != self.digest:
            raise DigestMismatch(f'image "{self.display}": blob {self.digest} does not match its digest '
                                 f"(got {got}); nothing was stored")
        if self.written != self.size:
            raise DigestMismatch(f'image "{self.display}": blob {self.digest} has {self.written} bytes, '
                                 f"its manifest gives {self.size}")


class TeeReader:
    """Reads ``src``, writing every byte to ``out`` and reporting counts to ``on_bytes``."""

    def __init__(self, src: BinaryIO, out: DigestingWriter, on_bytes: object = None) -> None:
        self._src = src
        self._out = out
        self._on_bytes = on_bytes

    def read(self, n: int = -1, /) -> bytes:
        data = self._src.read(n if n is not None and n >= 0 else CHUNK)
        if data:
            self._out.write(data)
            if callable(self._on_bytes):
                self._on_bytes(len(data))
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


def place_blob(layout: Layout, tmp: Path, name: str, durable: bool) -> Path:
    """Rename a verified blob to ``blobs/<name>`` unless it is there already (store lock held)."""
    final = layout.blobs / name
    if not final.is_file():
        os.replace(tmp, final)
        if durable:
            fsync_dir(layout.blobs)
    return final


def write_image_tree(tree: Path, appc_manifest: str, layer_digests: list[str], image_id: str,
                     durable: bool) -> None:
    """Fill an image's tree: its appc manifest, its layer list, then the marker."""
    tree.mkdir(mode=0o755)
    (tree / "manifest").write_text(appc_manifest)
    (tree / LAYERS).write_text("".join(d + "\n" for d in layer_digests))
    seal_tree(tree, image_id, durable)


def read_layers(tree: Path) -> list[str] | None:
    """The layer digests (base first) an image tree lists, or None for an ACI's tree."""
    try:
        text = (tree / LAYERS).read_text()
    except FileNotFoundError:
        return None
    return text.split()


def manifest_layers(raw: bytes) -> tuple[str, list[str]]:
    """(config digest, layer digests base first) of a stored OCI/Docker manifest."""
    import json

    doc = json.loads(raw)
    return doc["config"]["digest"], [d["digest"] for d in doc.get("layers", [])]
