"""Getting an image into the store, whatever the reference names, under a command's signature checks.

This is the one way in for ``rkt fetch`` and pod preparation (through
:meth:`rkt.trust.policy.ImagePolicy.find_id`): the store below knows nothing of sources,
discovery or signatures, and the pull engine (:mod:`rkt.images.pull`) is handed the registry
check (:func:`rkt.trust.registry.check_pull`) rather than importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rkt.store.errors import AmbiguousImageId, ImageError, ImageNotFound

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from rkt.store import Store
    from rkt.store.importer import Check
    from rkt.store.records import ImageRecord

    class Verifier(Protocol):
        """Starts a signature check of an image file (see :class:`rkt.trust.policy.ImagePolicy`)."""

        def begin(self, ref: str, path: Path) -> Check | None: ...

        def fetch_name(self, store: Store, ref: str, name: str, version: str | None) -> ImageRecord: ...

        def begin_url(self, url: str, fetch_signature: Callable[[], bytes | None]) -> Check | None: ...


def fetch_image(store: Store, ref: str, *, insecure: frozenset[str] = frozenset(), verifier: Verifier | None = None,
                pull_policy: str = "new", config_dirs: tuple[Path, ...] = (), debug: bool = False) -> ImageRecord:
    """Make ``ref`` available in the store and return its record.

    A file (path or ``file://`` URL) is imported (again, if already there: the result
    is the same id); an id must already be in the store. ``verifier`` checks the
    signature of a file before anything of it is kept (None: no check), and finds a
    name that is not in the store (or every name, with ``pull_policy="update"``) by
    appc discovery. An ``http(s)://`` URL is downloaded as ``pull_policy`` says
    (:mod:`rkt.images.remote_aci`). A source (``docker://``, ``oci:``, ``oci-archive:``,
    ``docker-archive:``) is pulled as ``pull_policy`` says (:func:`rkt.images.pull.fetch_source`),
    a registry image only with a trusted signature (:func:`rkt.trust.registry.check_pull`);
    ``debug`` (``--debug``) makes a registry source show each request on stderr.
    """
    from rkt.images.reference import parse_source

    source = parse_source(ref)
    if source is not None:
        from rkt.images.pull import fetch_source
        from rkt.images.source import SourceOptions
        from rkt.trust.registry import check_pull

        return fetch_source(store, source, SourceOptions(insecure, tuple(config_dirs), debug), pull_policy, check_pull)
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
