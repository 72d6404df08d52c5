"""``docker-archive:FILE[:REPO:TAG]``: a ``docker save`` tarball, read in place.

The archive's ``manifest.json`` names, per image, its config file, its layer tars (base first,
uncompressed) and its ``RepoTags``. The source presents it as a Docker schema 2 image: a manifest
is made from those (deterministically, so the same archive gives the same image id) with each
layer named by its ``diff_id`` from the config, which is the sha256 of the uncompressed layer tar;
the pull engine then checks every layer against it while it streams.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, BinaryIO

from rkt.images.errors import FetchError, ManifestUnknown
from rkt.images.local_files import TarFiles
from rkt.images.oci_spec import DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, load_json
from rkt.images.reference import SourceRef
from rkt.images.source import ImageSource, SourceOptions


class DockerArchive:
    """One image of a ``docker save`` archive."""

    def __init__(self, files: TarFiles, display: str, tag: str | None) -> None:
        self.files = files
        self.display = display
        try:
            entries = json.loads(files.read("manifest.json"))
        except ValueError:
            raise FetchError(f'image "{display}": its manifest.json is not valid JSON') from None
        except ManifestUnknown:
            raise FetchError(f'image "{display}": not a docker archive (no manifest.json)') from None
        if not isinstance(entries, list) or not entries:
            raise FetchError(f'image "{display}": its manifest.json lists no image')
        entry = self._pick(entries, tag)
        self.repo_tag: str | None = (entry.get("RepoTags") or [None])[0]
        self._blobs: dict[str, str] = {}
        self._manifest = self._synthesize(entry)

    def _pick(self, entries: list[Any], tag: str | None) -> dict[str, Any]:
        if tag is None:
            if len(entries) > 1:
                tags = [t for e in entries for t in (e.get("RepoTags") or [])]
                raise ManifestUnknown(f'image "{self.display}": the archive holds {len(entries)} images; '
                                      f'name one (docker-archive:FILE:REPO:TAG): {", ".join(tags)}')
            return dict(entries[0])
        for e in entries:
            if tag in (e.get("RepoTags") or []):
                return dict(e)
        raise ManifestUnknown(f'image "{self.display}": the archive has no image tagged "{tag}"')

    def _synthesize(self, entry: dict[str, Any]) -> bytes:
        config_name, layers = entry.get("Config"), entry.get("Layers")
        if not isinstance(config_name, str) or not isinstance(layers, list):
            raise FetchError(f'image "{self.display}": its manifest.json entry is malformed')
        config = self.files.read(config_name)
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        diff_ids = (load_json(config, "config", self.display).get("rootfs") or {}).get("diff_ids") or []
        if len(diff_ids) != len(layers):
            raise FetchError(f'image "{self.display}": its config lists {len(diff_ids)} layers, '
                             f"its manifest.json {len(layers)}")
        self._blobs[config_digest] = config_name
        descs = []
        for digest, name in zip(diff_ids, layers, strict=True):
            self._blobs[str(digest)] = str(name)
            descs.append({"mediaType": DOCKER_LAYER, "size": self.files.size(str(name)), "digest": digest})
        doc = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
               "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest},
               "layers": descs}
        return json.dumps(doc, separators=(",", ":")).encode()

    def fetch_manifest(self, ref: str | None = None) -> tuple[str, bytes]:
        if ref is not None and ref != "sha256:" + hashlib.sha256(self._manifest).hexdigest():
            raise ManifestUnknown(f'image "{self.display}": no manifest {ref} in the archive')
        return DOCKER_MANIFEST, self._manifest

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        name = self._blobs.get(digest)
        if name is None:
            raise ManifestUnknown(f'image "{self.display}": no blob {digest} in the archive')
        return self.files.open(name)

    def close(self) -> None:
        self.files.close()


def open_source(ref: SourceRef, options: SourceOptions) -> ImageSource:
    """Open ``docker-archive:FILE[:REPO:TAG]``."""
    assert ref.path is not None
    return DockerArchive(TarFiles(ref.path, ref.display), ref.display, ref.tag)
