"""Bringing one OCI layer into the store: stream, verify, render, commit.

The layer's bytes are read once: they are written to the blob being ingested and hashed
(sha256, checked against the digest that names the layer), and at the same time
decompressed (gzip, zstd or none, told by magic bytes) and rendered into the layer's tree
(:func:`rkt.store.layers.extract_layer`), in the pull's work directory. Blob and tree are
renamed into place with the image they belong to, under the store lock, once every layer of
the image matched its digest (:func:`rkt.store.oci_images.commit_image`). A layer whose blob
is stored but whose tree was removed (``image gc``) is rendered again from the blob, without
fetching.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rkt.store.compression import HEAD, decompressing, detect
from rkt.store.errors import ImageError
from rkt.store.extract import EntryError, Limits
from rkt.store.layers import extract_layer
from rkt.store.layout import Layout, place_tree, seal_tree
from rkt.store.oci import (
    DigestingWriter,
    DigestMismatch,
    TeeReader,
    blob_name,
    blob_path,
    layer_tree_id,
    place_blob,
)
from rkt.store.stream import HashingReader, StreamError


class _Prefixed:
    """``head`` followed by the rest of ``src`` (the bytes read to tell the compression)."""

    def __init__(self, head: bytes, src: TeeReader | BinaryIO) -> None:
        self._head = head
        self._src = src

    def read(self, n: int = -1, /) -> bytes:
        if self._head:
            out = self._head if n < 0 or n >= len(self._head) else self._head[:n]
            self._head = self._head[len(out):]
            return out
        return self._src.read(n)


def _read_head(src: TeeReader | BinaryIO) -> bytes:
    head = b""
    while len(head) < HEAD and (more := src.read(HEAD - len(head))):
        head += more
    return head


def _render(src: TeeReader | BinaryIO, tree: Path, limits: Limits, what: str) -> str:
    """Render the layer read from ``src`` into ``tree``; returns its diff id (sha256 of the uncompressed tar)."""
    head = _read_head(src)
    try:
        reader = HashingReader(decompressing(_Prefixed(head, src), detect(head)), limits.max_size, "sha256")
        extract_layer(reader, tree, limits)
    except (EntryError, StreamError) as e:
        raise ImageError(f"{what}: {e}") from None
    except OSError as e:
        raise ImageError(f"{what}: cannot extract it: {e.strerror or e}") from None
    return "sha256:" + reader.hexdigest()


def stage_layer(work: Path, stream: BinaryIO, digest: str, size: int, limits: Limits, display: str, *,
                diff_id: str | None = None, durable: bool = True,
                on_bytes: Callable[[int], None] | None = None) -> None:
    """Read a layer blob from ``stream`` (the caller closes it), verify it and render it in ``work``.

    ``work`` is the pull's work directory (under the store's ``tmp/``); the layer lands in
    ``work/<blob name>/`` (``blob`` and ``tree``) for :func:`commit_layer`.

    :param diff_id: the config's ``rootfs.diff_ids`` entry of the layer: the sha256 its uncompressed
        tar must have.
    :raises DigestMismatch: the bytes are not the blob's, or the uncompressed tar is not ``diff_id``'s.
    :raises ImageError: the layer is malformed or hostile.
    """
    what = f'image "{display}": layer {digest}'
    stage = work / blob_name(digest)
    stage.mkdir()
    tree = stage / "tree"
    tree.mkdir(mode=0o755)
    writer = DigestingWriter(stage / "blob", digest, size, display)
    try:
        tee = TeeReader(stream, writer, on_bytes)
        try:
            got = _render(tee, tree, limits, what)
            tee.drain()
        except ImageError:
            # a blob that is not what its digest names is reported as such, not as a bad tar
            tee.drain()
            writer.verify(durable=False)
            raise
        writer.verify(durable)
        if diff_id is not None and got != diff_id:
            raise DigestMismatch(f"{what}: its uncompressed content ({got}) is not the image config's "
                                 f"diff id {diff_id}; nothing was stored")
    except DigestMismatch:
        raise
    except OSError as e:
        raise ImageError(f"{what}: cannot read it: {e.strerror or e}") from None
    finally:
        writer.close()
    seal_tree(tree, digest, durable)


def commit_layer(layout: Layout, work: Path, digest: str, durable: bool) -> None:
    """Move a layer staged by :func:`stage_layer` into place (store lock held)."""
    stage = work / blob_name(digest)
    place_tree(layout, stage, stage / "tree", layer_tree_id(digest), durable)
    place_blob(layout, stage / "blob", blob_name(digest), durable)


def render_stored_layer(layout: Layout, digest: str, limits: Limits, display: str, *,
                        durable: bool = True) -> Path:
    """Render a stored layer blob's tree again (after ``image gc`` removed it); returns the tree."""
    what = f'image "{display}": layer {digest}'
    try:
        raw = open(blob_path(layout, digest), "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise ImageError(f"{what}: its blob is missing from the store; remove the image and fetch it "
                         "again") from None
    with raw, layout.workdir("render") as work:
        tree = work / "tree"
        tree.mkdir(mode=0o755)
        _render(raw, tree, limits, what)
        seal_tree(tree, digest, durable)
        with layout.lock():
            return place_tree(layout, work, tree, layer_tree_id(digest), durable)
