"""``oci:DIR[:TAG]``: an OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/``).

:class:`LayoutSource` also serves ``oci-archive:`` (the same layout inside a tar). ``TAG`` picks
the ``index.json`` entry whose ``org.opencontainers.image.ref.name`` annotation it is; without a
tag, the layout must hold exactly one image.
"""

from __future__ import annotations

from typing import BinaryIO

from rkt.images.errors import FetchError, ManifestUnknown
from rkt.images.local_files import DirFiles, Files
from rkt.images.oci_spec import OCI_INDEX, kind_of, load_json, parse_index
from rkt.images.reference import SourceRef
from rkt.images.source import ImageSource, SourceOptions
from rkt.store.oci import check_digest_syntax

REF_NAME = "org.opencontainers.image.ref.name"


class LayoutSource:
    """An OCI layout read through ``files``."""

    def __init__(self, files: Files, display: str, tag: str | None) -> None:
        self.files = files
        self.display = display
        self.tag = tag
        try:
            files.read("oci-layout")
        except ManifestUnknown:
            raise FetchError(f'image "{display}": not an OCI image layout (no oci-layout file)') from None

    def _blob_name(self, digest: str) -> str:
        check_digest_syntax(digest, self.display)
        algo, _, hexpart = digest.partition(":")
        return f"blobs/{algo}/{hexpart}"

    def fetch_manifest(self, ref: str | None = None) -> tuple[str, bytes]:
        if ref is not None:
            raw = self.files.read(self._blob_name(ref))
            doc = load_json(raw, "manifest", self.display)
            return str(doc.get("mediaType", "")), raw
        raw = self.files.read("index.json")
        index = parse_index(raw, self.display)
        if self.tag is not None:
            named = [d for d in index.manifests if dict(d.annotations).get(REF_NAME) == self.tag]
        else:
            named = list(index.manifests)
        if len(named) != 1:
            tags = sorted({dict(d.annotations).get(REF_NAME, "") for d in index.manifests} - {""})
            what = f'no image tagged "{self.tag}"' if self.tag is not None and not named else (
                f"{len(named)} images" if named else "no image")
            raise ManifestUnknown(f'image "{self.display}": the layout holds {what}; '
                                  f'tags: {", ".join(tags) or "none"}')
        desc = named[0]
        mraw = self.files.read(self._blob_name(desc.digest))
        media = desc.media_type or str(load_json(mraw, "manifest", self.display).get("mediaType", ""))
        if not media and kind_of("", load_json(mraw, "manifest", self.display)) == "index":
            media = OCI_INDEX
        return media, mraw

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        return self.files.open(self._blob_name(digest))

    def close(self) -> None:
        self.files.close()


def open_source(ref: SourceRef, options: SourceOptions) -> ImageSource:
    """Open ``oci:DIR[:TAG]``."""
    assert ref.path is not None
    if not ref.path.is_dir():
        raise FetchError(f'image "{ref.display}": {ref.path} is not a directory')
    return LayoutSource(DirFiles(ref.path, ref.display), ref.display, ref.tag)
