"""The name, labels and annotations an image pulled from a source is stored under.

- ``docker://REGISTRY/REPO:TAG`` -> name ``REGISTRY/REPO``, label ``version`` = ``TAG`` (as rkt stored
  Docker images); by digest only, no version;
- ``docker-archive:FILE`` -> the archive's first ``RepoTags`` entry read the same way;
- ``oci:DIR[:TAG]``, ``oci-archive:FILE[:TAG]`` -> the directory's or file's base name, version
  ``TAG`` (``latest`` when none is given).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rkt.images.app_config import MANIFEST_DIGEST, REGISTRY, REPOSITORY, TAG
from rkt.images.oci_spec import APPC_ARCH

if TYPE_CHECKING:
    from rkt.images.pulled import Pulled
    from rkt.images.reference import SourceRef
    from rkt.store import ImageRecord, Store

_BAD = re.compile(r"[^a-z0-9._/-]+")


def _local_name(ref: SourceRef) -> str:
    assert ref.path is not None
    base = ref.path.resolve().name if ref.path.name in ("", ".", "..") else ref.path.name
    for suffix in (".tar", ".tar.gz", ".oci"):
        base = base.removesuffix(suffix)
    return _BAD.sub("-", base.lower()).strip("-._/") or "image"


def source_name(ref: SourceRef, repo_tag: str | None = None) -> tuple[str, str | None]:
    """(name, version) an image from ``ref`` is stored under; ``repo_tag``: a docker archive's tag."""
    if ref.docker is not None:
        return ref.docker.name, ref.docker.tag if ref.docker.digest is None else None
    if repo_tag:
        from rkt.images.docker_reference import parse_docker_reference
        from rkt.images.errors import BadReference

        try:
            d = parse_docker_reference(repo_tag)
            return d.name, d.tag
        except BadReference:
            pass
    return _local_name(ref), ref.tag or "latest"


def image_names(pulled: Pulled) -> tuple[str, dict[str, str], dict[str, str]]:
    """(name, labels, annotations) of a pulled image."""
    name, version = source_name(pulled.ref, getattr(pulled.source, "repo_tag", None))
    arch = str(pulled.config.get("architecture") or "amd64")
    labels = {"os": str(pulled.config.get("os") or "linux"), "arch": APPC_ARCH.get(arch, arch)}
    if version:
        labels["version"] = version
    ann = {MANIFEST_DIGEST: pulled.manifest_digest}
    if pulled.ref.docker is not None:
        ann[REGISTRY] = pulled.ref.docker.registry
        ann[REPOSITORY] = pulled.ref.docker.repository
        if pulled.ref.docker.tag:
            ann[TAG] = pulled.ref.docker.tag
    return name, labels, ann


def stored_name(store: Store, ref: SourceRef, *, local: bool = False) -> ImageRecord | None:
    """The newest stored image a reference names by name and tag.

    None for a digest, and for local sources (cheap to read again) unless ``local``.
    """
    if ref.docker is not None:
        return None if ref.docker.digest is not None else store.find_name(ref.docker.name, ref.docker.tag)
    if not local or ref.transport == "docker-archive":
        return None
    name, version = source_name(ref)
    return store.find_name(name, version)
