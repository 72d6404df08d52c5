"""The one interface every image transport implements, and how a transport is opened.

A transport is a module of this package exposing ``open_source(ref: SourceRef,
options: SourceOptions) -> ImageSource``; :func:`open_source` imports it only when its scheme is
used, so a command never loads a registry client it does not need. The pull engine
(:mod:`rkt.images.pull`) speaks to every transport through :class:`ImageSource` alone.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from rkt_sdk.record import Record

if TYPE_CHECKING:
    from rkt.images.reference import SourceRef

TRANSPORT_MODULES = {
    "docker": "rkt.images.docker",
    "oci": "rkt.images.oci_layout",
    "oci-archive": "rkt.images.oci_archive",
    "docker-archive": "rkt.images.docker_archive",
}


class SourceOptions(Record):
    """What a transport may need besides the reference.

    ``insecure``: the ``--insecure-options`` values (``http``, ``tls``, ...); ``config_dirs``: rkt's
    config directories, lowest precedence first (credentials: :func:`rkt.config.auth.load_auth`);
    ``debug``: ``--debug`` was given.
    """

    insecure: frozenset[str] = frozenset()
    config_dirs: tuple[Path, ...] = ()
    debug: bool = False


class ImageSource(Protocol):
    """Where an OCI or Docker image's manifest and blobs come from."""

    display: str
    """How messages name the image, e.g. ``docker://host/repo:tag`` or ``oci:DIR:TAG``."""

    def fetch_manifest(self, ref: str | None = None) -> tuple[str, bytes]:
        """The manifest or index the source names (``ref`` None), or the manifest with digest ``ref``.

        :param ref: None, or a digest ``"sha256:..."`` named by an index the source gave.
        :returns: (media type, raw bytes), the bytes exactly as stored (their digest is checked).
        :raises rkt.images.errors.FetchError: a subclass carrying the source's reason.
        """
        ...

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        """A readable stream of the blob's raw bytes.

        The caller verifies the digest while the bytes stream and closes the stream.

        :param digest: ``"sha256:..."``, as a manifest names the blob.
        :param size: the size the manifest gives (a source may use it, e.g. to bound reads).
        :raises rkt.images.errors.FetchError: the source has no such blob or cannot reach it.
        """
        ...

    def close(self) -> None:
        """Release what the source holds (connections, open archives). Called once, last."""
        ...


def open_source(ref: SourceRef, options: SourceOptions) -> ImageSource:
    """Import ``ref``'s transport module and open the source it names."""
    module = importlib.import_module(TRANSPORT_MODULES[ref.transport])
    source: ImageSource = module.open_source(ref, options)
    return source
