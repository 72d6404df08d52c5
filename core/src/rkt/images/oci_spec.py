"""The OCI image spec's and Docker schema 2's JSON documents, as far as pulling needs them.

Manifests and indexes of both families are read into :class:`Manifest` and :class:`Index`
records; :func:`pick_platform` chooses this host's image from an index, and says what the
index offers when nothing fits.
"""

from __future__ import annotations

import json
import platform as _platform
from typing import Any

from rkt.images.errors import FetchError, PlatformMismatch
from rkt_sdk.record import Record

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
#: Cap on a manifest, index or config document.
MAX_DOCUMENT = 4 << 20

#: ``uname -m`` -> the architecture names of the OCI spec (Go's GOARCH).
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386",
           "i386": "386", "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64"}
#: GOARCH -> appc's ``arch`` label.
APPC_ARCH = {"amd64": "amd64", "arm64": "aarch64", "386": "i386", "arm": "armv7l", "ppc64le": "ppc64le",
             "s390x": "s390x"}


class Descriptor(Record):
    """A content descriptor: what a manifest or index says of a blob."""

    media_type: str
    digest: str
    size: int
    os: str = ""
    architecture: str = ""
    variant: str = ""
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def platform(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


class Manifest(Record):
    """An image manifest: its config and its layers, base first."""

    config: Descriptor
    layers: tuple[Descriptor, ...]


class Index(Record):
    """An image index (manifest list): one manifest per platform."""

    manifests: tuple[Descriptor, ...]


def load_json(raw: bytes, what: str, display: str) -> dict[str, Any]:
    if len(raw) > MAX_DOCUMENT:
        raise FetchError(f'image "{display}": its {what} is over {MAX_DOCUMENT} bytes')
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise FetchError(f'image "{display}": its {what} is not valid JSON ({e})') from None
    if not isinstance(doc, dict):
        raise FetchError(f'image "{display}": its {what} is not a JSON object')
    return doc


def _descriptor(d: Any, what: str, display: str) -> Descriptor:
    try:
        plat = d.get("platform") or {}
        ann = d.get("annotations") or {}
        size = d["size"]
        if not isinstance(size, int) or size < 0 or not isinstance(d["digest"], str):
            raise TypeError
        return Descriptor(str(d.get("mediaType", "")), d["digest"], size, str(plat.get("os", "")),
                          str(plat.get("architecture", "")), str(plat.get("variant", "")),
                          tuple((str(k), str(v)) for k, v in ann.items()))
    except (KeyError, TypeError, AttributeError):
        raise FetchError(f'image "{display}": its {what} has a malformed descriptor') from None


def kind_of(media_type: str, doc: dict[str, Any]) -> str:
    """``"index"`` or ``"manifest"``, from the media type or (when a source gives none) the document."""
    mt = media_type or str(doc.get("mediaType", ""))
    if mt in INDEX_TYPES or (not mt and "manifests" in doc):
        return "index"
    return "manifest"


def parse_manifest(raw: bytes, display: str) -> Manifest:
    doc = load_json(raw, "manifest", display)
    if doc.get("schemaVersion") != 2 or "config" not in doc:
        raise FetchError(f'image "{display}": unsupported manifest (only OCI and Docker schema 2 images '
                         "are supported)")
    layers = doc.get("layers") or []
    if not isinstance(layers, list):
        raise FetchError(f'image "{display}": its manifest has a malformed layer list')
    return Manifest(_descriptor(doc["config"], "manifest", display),
                    tuple(_descriptor(d, "manifest", display) for d in layers))


def parse_index(raw: bytes, display: str) -> Index:
    doc = load_json(raw, "index", display)
    ms = doc.get("manifests")
    if not isinstance(ms, list):
        raise FetchError(f'image "{display}": its index has no manifest list')
    return Index(tuple(_descriptor(d, "index", display) for d in ms))


def host_platform() -> tuple[str, str]:
    """This host's (os, architecture) in the OCI spec's names."""
    machine = _platform.machine().lower()
    return "linux", _GOARCH.get(machine, machine)


def pick_platform(index: Index, display: str) -> Descriptor:
    """The index's manifest for this host; :class:`PlatformMismatch` listing what it offers otherwise."""
    os_, arch = host_platform()
    fits = [d for d in index.manifests if d.os == os_ and d.architecture == arch and d.media_type not in
            ("application/vnd.in-toto+json",)]
    if arch == "arm":
        fits.sort(key=lambda d: d.variant != "v7")
    if fits:
        return fits[0]
    offered = sorted({d.platform for d in index.manifests if d.os and d.os != "unknown"})
    raise PlatformMismatch(f'image "{display}" has no image for {os_}/{arch}; it offers: '
                           f'{", ".join(offered) or "no platform at all"}')
