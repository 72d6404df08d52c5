"""What a pull fetched before it commits: the image's documents, checked against their digests.

The record the pull engine (:mod:`rkt.images.pull`) hands to the check that decides whether
an image may be stored, and to :mod:`rkt.images.naming`, which names it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rkt.images.oci_spec import Manifest
    from rkt.images.reference import SourceRef
    from rkt.images.source import ImageSource


class Pulled:
    """What a pull fetched before it commits: the documents, checked against their digests."""

    def __init__(self, source: ImageSource, ref: SourceRef, manifest_raw: bytes, manifest: Manifest,
                 config_raw: bytes, config: dict[str, Any], named_raw: bytes | None = None) -> None:
        self.source = source
        self.ref = ref
        self.named_raw = named_raw if named_raw is not None else manifest_raw  # what the reference named
        self.manifest_raw = manifest_raw
        self.manifest = manifest
        self.config_raw = config_raw
        self.config = config

    @property
    def manifest_digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.manifest_raw).hexdigest()

