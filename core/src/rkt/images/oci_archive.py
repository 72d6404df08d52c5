"""``oci-archive:FILE[:TAG]``: an OCI image layout packed in an (uncompressed) tar, read in place."""

from __future__ import annotations

from rkt.images.local_files import TarFiles
from rkt.images.oci_layout import LayoutSource
from rkt.images.reference import SourceRef
from rkt.images.source import ImageSource, SourceOptions


def open_source(ref: SourceRef, options: SourceOptions) -> ImageSource:
    """Open ``oci-archive:FILE[:TAG]``."""
    assert ref.path is not None
    return LayoutSource(TarFiles(ref.path, ref.display), ref.display, ref.tag)
