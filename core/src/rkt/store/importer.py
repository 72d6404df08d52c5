"""Importing an ACI into the store, and rendering a stored blob again.

An import reads the archive once: the raw bytes are copied to the blob as they are read,
the decompressed stream is hashed (the image id) and extracted into the rendered tree at
the same time, and the manifest is validated as soon as it is met. Everything happens in
a locked directory under ``tmp/``; only a complete, synced tree and blob are renamed into
place, under the store lock, before the index row is committed. Any failure leaves the
store as it was.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from rkt.store.compression import HEAD, Readable, decompressing, detect
from rkt.store.errors import ImageError
from rkt.store.extract import MAX_TRAILING, EntryError, Extracted, Limits, extract_aci
from rkt.store.ids import full_id, short_id, tree_id
from rkt.store.index import Index
from rkt.store.layout import Layout, fsync_dir, place_tree, seal_tree
from rkt.store.records import ImageRecord
from rkt.store.stream import CHUNK, HashingReader, SizeLimitExceeded, StreamError
from rkt_sdk.appc import ImageManifest
from rkt_sdk.errors import ManifestError

if TYPE_CHECKING:
    from collections.abc import Callable


class _Tee:
    """Reads ``src`` and writes every byte read to ``out`` (the blob being stored)."""

    def __init__(self, src: BinaryIO, out: BinaryIO, feed: Callable[[bytes], None] | None = None) -> None:
        self._src = src
        self._out = out
        self._feed = feed

    def read(self, n: int = -1, /) -> bytes:
        data = self._src.read(n)
        if data:
            self._out.write(data)
            if self._feed is not None:
                self._feed(data)
        return data

    def drain(self) -> None:
        """Copy what the decompressor left unread (trailing bytes) so the blob is the whole input."""
        left = MAX_TRAILING
        while data := self.read(CHUNK):
            left -= len(data)
            if left < 0:
                raise SizeLimitExceeded(f"more than {MAX_TRAILING} bytes follow the end of the compressed archive")


def parse_manifest(raw: bytes, display: str) -> ImageManifest:
    """Validate an image manifest; :class:`ImageError` naming the image if it is bad."""
    try:
        return ImageManifest.from_json(raw)
    except ManifestError as e:
        raise ImageError(f'image "{display}": {e}') from None


def _extract(reader: HashingReader, tree: Path, limits: Limits, display: str) -> tuple[Extracted, ImageManifest]:
    found: list[ImageManifest] = []
    try:
        result = extract_aci(reader, tree, limits, lambda raw: found.append(parse_manifest(raw, display)))
    except (EntryError, StreamError) as e:
        raise ImageError(f'image "{display}": {e}') from None
    except OSError as e:
        raise ImageError(f'image "{display}": cannot extract it: {e.strerror or e}') from None
    if not found:
        raise ImageError(f'image "{display}": no manifest in the archive (is it an ACI?)')
    return result, found[0]


class Check(Protocol):
    """A signature check started on the file being imported (see :mod:`rkt.trust.aci`)."""

    def finish(self, manifest: ImageManifest, data: Path | None = None) -> bytes | None:
        """Decide once the manifest is known; returns the signature to keep (if any), or raises.
        ``data``: the file holding every byte read (the blob being stored)."""

    def cancel(self) -> None:
        """Drop the check (the import failed first)."""

    @property
    def feed(self) -> Callable[[bytes], None] | None:
        """Where the image's raw bytes go as they are read, for a check that reads them from the
        import (a download); None for a check that reads the file itself."""


def import_archive(layout: Layout, index: Index, src: Path, display: str, limits: Limits,
                   durable: bool = True, check: Check | None = None) -> ImageRecord:
    """Import the ACI file ``src`` (``display`` is how the user named it) and return its record.

    ``check`` (a signature check already running on ``src``) must pass before anything is kept;
    the signature it returns is kept beside the blob.
    """
    try:
        return _import(layout, index, src, display, limits, durable, check)
    except BaseException:
        if check is not None:
            check.cancel()
        raise


def _import(layout: Layout, index: Index, src: Path, display: str, limits: Limits, durable: bool,
            check: Check | None) -> ImageRecord:
    try:
        raw = io.BufferedReader(io.FileIO(src, "rb"), buffer_size=CHUNK)
    except FileNotFoundError:
        raise ImageError(f'image "{display}": no such file') from None
    except IsADirectoryError:
        raise ImageError(f'image "{display}": is a directory, not an ACI file') from None
    except OSError as e:
        raise ImageError(f'image "{display}": cannot open it: {e.strerror}') from None
    with raw:
        return import_stream(layout, index, raw, display, limits, durable, check)


def import_stream(layout: Layout, index: Index, raw: io.BufferedReader[Any], display: str, limits: Limits,
                  durable: bool = True, check: Check | None = None) -> ImageRecord:
    """Import an ACI read once from ``raw`` (a file, or a download as it arrives); its record.

    The caller closes ``raw`` (and cancels ``check`` if this fails). Nothing becomes visible
    unless the whole archive was good.
    """
    with layout.workdir("import") as work:
        tree = work / "tree"
        tree.mkdir(mode=0o755)
        blob_tmp = work / "blob"
        head = raw.peek(HEAD)[:HEAD]
        kind = detect(head)
        with open(blob_tmp, "wb", buffering=CHUNK) as blob_out:
            tee = _Tee(raw, blob_out, check.feed if check is not None else None)
            reader = HashingReader(decompressing(tee, kind), limits.max_size)
            result, manifest = _extract(reader, tree, limits, display)
            tee.drain()
            if durable:
                blob_out.flush()
                os.fsync(blob_out.fileno())
        image_id = full_id(result.digest)
        signature = check.finish(manifest, blob_tmp) if check is not None else None
        seal_tree(tree, image_id, durable)
        now = time.time_ns()
        rec = ImageRecord(image_id, manifest.name, {kv.name: kv.value for kv in manifest.labels}, now, now,
                          result.size)
        with layout.lock():
            place_tree(layout, work, tree, tree_id(image_id), durable)
            blob = layout.blob(image_id)
            if index.get(image_id) is None or not blob.exists():
                os.replace(blob_tmp, blob)
                if durable:
                    fsync_dir(layout.blobs)
            if signature is not None:
                _keep_signature(layout, work, image_id, signature)
            return index.insert(rec, (result.manifest or b"").decode("utf-8", "replace"), kind,
                                blob.stat().st_size)


def _keep_signature(layout: Layout, work: Path, image_id: str, signature: bytes) -> None:
    """Keep the signature an image was verified with, for ``rkt image verify`` (store lock held)."""
    tmp = work / "signature"
    tmp.write_bytes(signature)
    layout.signatures.mkdir(mode=0o755, exist_ok=True)
    os.replace(tmp, layout.signature(image_id))


def open_blob(layout: Layout, index: Index, image_id: str) -> tuple[BinaryIO, Readable]:
    """The stored blob of an image opened for reading: (raw file, decompressed stream)."""
    fmt = index.blob_format(image_id) or "tar"
    try:
        raw = open(layout.blob(image_id), "rb", buffering=CHUNK)  # noqa: SIM115 (the caller closes it)
    except FileNotFoundError:
        raise ImageError(f'image "{short_id(image_id)}": its blob is missing from the store; '
                         "remove the image and fetch it again") from None
    return raw, decompressing(raw, fmt)


def check_digest(image_id: str, digest: str) -> None:
    """Refuse a stored blob whose content no longer matches its id."""
    if full_id(digest) != image_id:
        raise ImageError(f'image "{short_id(image_id)}": the stored blob does not match its id '
                         "(corrupt on disk); remove the image and fetch it again")


def render_blob(layout: Layout, index: Index, image_id: str, limits: Limits, *, durable: bool = True,
                verify: bool = True) -> Path:
    """Render an image's tree again from its blob (after ``image gc`` removed it)."""
    display = short_id(image_id)
    with layout.workdir("render") as work:
        tree = work / "tree"
        tree.mkdir(mode=0o755)
        raw, stream = open_blob(layout, index, image_id)
        with raw:
            result, _ = _extract(HashingReader(stream, limits.max_size), tree, limits, display)
        if verify:
            check_digest(image_id, result.digest)
        seal_tree(tree, image_id, durable)
        with layout.lock():
            return place_tree(layout, work, tree, tree_id(image_id), durable)


def copy_blob_tar(layout: Layout, index: Index, image_id: str, out: BinaryIO, *, verify: bool = True) -> int:
    """Write the image's uncompressed tar to ``out``; returns its size. Checks the digest."""
    raw, stream = open_blob(layout, index, image_id)
    with raw:
        reader = HashingReader(stream, 1 << 62)
        try:
            while chunk := reader.read_some(4 * CHUNK):
                out.write(chunk)
        except StreamError as e:
            raise ImageError(f'image "{short_id(image_id)}": the stored blob is unreadable: {e}') from None
    if verify:
        check_digest(image_id, reader.hexdigest())
    return reader.total
