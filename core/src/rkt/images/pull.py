"""The pull engine: from an :class:`~rkt.images.source.ImageSource` into the store.

A pull reads the manifest (picking this host's image from an index), checks every document
against the digest that names it, reads the config, lets the caller's check decide (a registry
image's signature: :func:`rkt.trust.registry.check_pull`), then copies the layers not yet stored,
:data:`PARALLEL` at a time: each one streams through its digest check and is rendered on the
way (:func:`rkt.store.layer_ingest.stage_layer`) into the pull's work directory. The image
and its new layers become visible in one step under the store lock
(:func:`rkt.store.oci_images.commit_image`): a pull that fails or is killed leaves the store as
it was.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from rkt.images.errors import DigestMismatch, FetchError
from rkt.images.oci_spec import Descriptor, kind_of, load_json, parse_index, parse_manifest, pick_platform
from rkt.images.pulled import Pulled
from rkt.store.errors import ImageNotFound
from rkt.store.oci import check_digest_syntax

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rkt.images.reference import SourceRef
    from rkt.images.source import ImageSource, SourceOptions
    from rkt.store import ImageRecord, Store

    #: A pull's signature check: raises to refuse, returns the signatures to keep (None: none).
    Check = Callable[[Pulled, SourceOptions], bytes | None]

#: Layers copied at once.
PARALLEL = 3


def _check(raw: bytes, digest: str, what: str, display: str) -> None:
    got = "sha256:" + hashlib.sha256(raw).hexdigest()
    if got != digest:
        raise DigestMismatch(f'image "{display}": the {what} does not match its digest {digest} (got {got}); '
                             "nothing was stored")


def _read_manifest(source: ImageSource, ref: SourceRef) -> tuple[bytes, bytes]:
    """(what the reference names, the image manifest for this host through it), digest-checked."""
    display = source.display
    media, raw = source.fetch_manifest()
    named = raw
    pinned = ref.docker.digest if ref.docker is not None else None
    if pinned:
        _check(raw, pinned, "manifest", display)
    for _ in range(2):
        doc = load_json(raw, "manifest", display)
        if kind_of(media, doc) != "index":
            return named, raw
        desc = pick_platform(parse_index(raw, display), display)
        check_digest_syntax(desc.digest, display)
        media, raw = source.fetch_manifest(desc.digest)
        _check(raw, desc.digest, "manifest", display)
    raise FetchError(f'image "{display}": an index names another index; not supported')


def _read_small(source: ImageSource, desc: Descriptor, what: str) -> bytes:
    check_digest_syntax(desc.digest, source.display)
    if desc.size > 4 << 20:
        raise FetchError(f'image "{source.display}": its {what} is {desc.size} bytes, over the limit of 4 MiB')
    stream = source.open_blob(desc.digest, desc.size)
    try:
        raw = stream.read(desc.size + 1)
    finally:
        stream.close()
    _check(raw, desc.digest, what, source.display)
    return raw


def fetch_documents(source: ImageSource, ref: SourceRef) -> Pulled:
    """Read and check the manifest and config of the image ``source`` names."""
    named, raw = _read_manifest(source, ref)
    manifest = parse_manifest(raw, source.display)
    config_raw = _read_small(source, manifest.config, "config")
    config = load_json(config_raw, "config", source.display)
    for layer in manifest.layers:
        check_digest_syntax(layer.digest, source.display)
    return Pulled(source, ref, raw, manifest, config_raw, config, named)


def _copy_layer(store: Store, source: ImageSource, desc: Descriptor, diff_id: str | None, work: Path,
                progress: Any, cancel: threading.Event) -> None:
    from rkt.store.layer_ingest import stage_layer

    def on_bytes(n: int) -> None:
        if cancel.is_set():
            raise FetchError("pull cancelled")
        progress.advance(desc.digest, n)

    progress.started(desc.digest, desc.size)
    stream = source.open_blob(desc.digest, desc.size)
    try:
        stage_layer(work, stream, desc.digest, desc.size, store.limits, source.display, diff_id=diff_id,
                    durable=store.durable, on_bytes=on_bytes)
    finally:
        stream.close()
    progress.finished(desc.digest)


def _diff_ids(pulled: Pulled) -> dict[str, str]:
    """Layer digest -> the config's diff id for it (the sha256 of the uncompressed layer)."""
    rootfs = pulled.config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(ids, list) or len(ids) != len(pulled.manifest.layers):
        raise FetchError(f'image "{pulled.source.display}": its config lists {len(ids or [])} layer diff ids '
                         f"for {len(pulled.manifest.layers)} layers")
    return {d.digest: str(i) for d, i in zip(pulled.manifest.layers, ids, strict=True)}


def fetch_layers(store: Store, pulled: Pulled, work: Path, *, quiet: bool = False) -> list[str]:
    """Copy the layers the store lacks into ``work``, :data:`PARALLEL` at a time; returns their digests.

    A layer whose blob is stored but whose tree is not (``image gc``) is rendered from the blob.
    """
    from rkt.images.progress import Progress
    from rkt.store.layer_ingest import render_stored_layer
    from rkt.store.oci import has_layer, layer_rendered

    todo: dict[str, Descriptor] = {}
    for d in pulled.manifest.layers:
        if not has_layer(store.layout, d.digest):
            todo.setdefault(d.digest, d)
        elif not layer_rendered(store.layout, d.digest):
            render_stored_layer(store.layout, d.digest, store.limits, pulled.source.display, durable=store.durable)
    if not todo:
        return []
    cancel = threading.Event()
    with Progress(pulled.source.display, quiet=quiet) as progress, \
            ThreadPoolExecutor(max_workers=min(PARALLEL, len(todo)), thread_name_prefix="pull") as pool:
        diff_ids = _diff_ids(pulled)
        futures = [pool.submit(_copy_layer, store, pulled.source, d, diff_ids.get(d.digest), work, progress, cancel)
                   for d in todo.values()]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            for f in futures:
                if f.done() and f.exception() is not None:
                    raise f.exception()  # type: ignore[misc]
        finally:
            cancel.set()
            for f in futures:
                f.cancel()
    return list(todo)


def commit(store: Store, pulled: Pulled, work: Path, staged: list[str], signatures: bytes | None) -> ImageRecord:
    """Make the pulled image (accepted by the pull's check) visible in the store."""
    from rkt.images.naming import image_names
    from rkt.store.oci_images import OciImage, commit_image

    name, labels, annotations = image_names(pulled)
    appc = _appc_json(store, pulled, name, labels, annotations, work, staged)
    size = pulled.manifest.config.size + sum(d.size for d in pulled.manifest.layers)
    image = OciImage(pulled.manifest_raw, pulled.config_raw, pulled.manifest.config.digest,
                     [d.digest for d in pulled.manifest.layers], appc, name, labels, size)
    return commit_image(store, image, work, staged, signatures)


def _appc_json(store: Store, pulled: Pulled, name: str, labels: dict[str, str], annotations: dict[str, str],
               work: Path, staged: list[str]) -> str:
    import json

    from rkt.images.app_config import appc_manifest
    from rkt.images.layer_files import LayerFiles
    from rkt.store.oci import blob_name, layer_tree_id
    from rkt_sdk.appc import ImageManifest
    from rkt_sdk.errors import ManifestError

    roots = [(work / blob_name(d.digest) / "tree" if d.digest in staged else store.layout.tree(layer_tree_id(d.digest)))
             / "rootfs" for d in reversed(pulled.manifest.layers)]
    files = LayerFiles(roots)
    doc = appc_manifest(pulled.config, name, labels, annotations, files.read, files.exists)
    text = json.dumps(doc, indent=None, separators=(",", ":"))
    try:
        ImageManifest.from_json(text)
    except ManifestError as e:
        raise FetchError(f'image "{pulled.source.display}": its config cannot be run as an app: {e}') from None
    return text


def pull(store: Store, source: ImageSource, ref: SourceRef, options: SourceOptions,
         check: Check) -> ImageRecord:
    """Bring the image ``source`` names into the store (its stored record if it is there already).

    ``check`` sees the manifest and config first: nothing of an image it refuses is read further or stored;
    the signatures it returns are kept with the image (given to an image stored without them).
    """
    from rkt.store.oci_images import image_id_of, keep_signatures

    pulled = fetch_documents(source, ref)
    signatures = check(pulled, options)
    image_id = image_id_of(pulled.manifest_raw)
    try:
        rec = store.resolve(image_id)
    except ImageNotFound:
        pass
    else:
        if signatures is not None and store.registry_signatures(image_id) is None:
            with store.layout.workdir("pull") as work, store.layout.lock():
                keep_signatures(store, work, image_id, signatures)
        return rec
    with store.layout.workdir("pull") as work:
        staged = fetch_layers(store, pulled, work)
        return commit(store, pulled, work, staged, signatures)


def fetch_source(store: Store, ref: SourceRef, options: SourceOptions, policy: str,
                 check: Check) -> ImageRecord:
    """The record of the image ``ref`` names, pulled or not as ``policy`` (never, new, update) says.

    A pull is decided by ``check`` (see :func:`pull`).
    """
    from rkt.images.naming import stored_name
    from rkt.images.source import open_source

    if policy != "update":
        found = stored_name(store, ref, local=policy == "never")
        if found is not None:
            return found
        if policy == "never":
            raise ImageNotFound(f'unable to find image "{ref.display}" in the local store '
                                "(--pull-policy=never)")
    source = open_source(ref, options)
    try:
        return pull(store, source, ref, options, check)
    finally:
        source.close()
