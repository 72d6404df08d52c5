"""Getting an image into the store, whatever the reference names (see :meth:`rkt.store.Store.fetch`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rkt.store.errors import AmbiguousImageId, ImageError, ImageNotFound

if TYPE_CHECKING:
    from rkt.store import Store, Verifier
    from rkt.store.records import ImageRecord


def fetch(store: Store, ref: str, *, insecure: frozenset[str], verifier: Verifier | None, pull_policy: str,
          config_dirs: tuple[Path, ...]) -> ImageRecord:
    """What :meth:`rkt.store.Store.fetch` does."""
    from rkt.images.reference import parse_source

    source = parse_source(ref)
    if source is not None:
        from rkt.images.pull import fetch_source
        from rkt.images.source import SourceOptions

        return fetch_source(store, source, SourceOptions(insecure, tuple(config_dirs)), pull_policy)
    from rkt.store.refs import parse_ref

    r = parse_ref(ref)
    if r.kind == "file" and pull_policy != "never":
        assert r.path is not None
        check = verifier.begin(ref, r.path) if verifier is not None else None
        return store.import_file(r.path, display=ref, check=check)
    if r.kind == "remote" and ref.startswith(("https://", "http://")):
        from rkt.images.remote_aci import fetch_url

        return fetch_url(store, ref, insecure=insecure, pull_policy=pull_policy, verifier=verifier,
                         config_dirs=config_dirs)
    if r.kind == "remote":
        raise ImageError(f'image "{ref}": fetching from {ref.partition("://")[0]} URLs is not supported; '
                         "fetch an ACI file")
    if r.kind == "name" and pull_policy == "update" and verifier is not None:
        return verifier.fetch_name(store, ref, r.name, r.version)
    try:
        return store.resolve(ref)
    except AmbiguousImageId:
        raise
    except ImageNotFound:
        if r.kind == "name" and verifier is not None and pull_policy != "never":
            return verifier.fetch_name(store, ref, r.name, r.version)
        if r.kind == "name":
            raise ImageNotFound(f'unable to find image "{ref}" in the local store and fetching images by '
                                "name from the network is not supported; fetch its ACI file") from None
        raise
