"""Docker image references: ``[REGISTRY/]REPO[:TAG|@DIGEST]``, read as docker and rkt read them.

The first path component is a registry host when it holds a ``.`` or a ``:`` or is
``localhost``; otherwise the registry is Docker Hub (``docker.io``), and a repository without a
``/`` lives under ``library/`` there. A reference with neither tag nor digest means ``:latest``.
Both a tag and a digest may be given (``repo:tag@sha256:...``); the digest decides.
"""

from __future__ import annotations

import re

from rkt.images.errors import BadReference
from rkt_sdk.record import Record

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_HOST = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?"
                   r"|\[[0-9a-fA-F:]+\](?::[0-9]+)?")


class DockerReference(Record):
    """A parsed docker reference. ``tag`` is set unless only a digest was given."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def ref(self) -> str:
        """What the registry's manifest endpoint takes: the digest if given, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        """The host to speak the registry API to (Docker Hub's API lives on its own host)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository``, the image's name."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_docker_reference(text: str) -> DockerReference:
    """Parse ``text`` (without ``docker://``); :class:`BadReference` names what is wrong."""
    if not text:
        raise BadReference("empty docker image reference")
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise BadReference(f"docker reference {text!r}: bad digest {digest!r}")
    tag: str | None = None
    head, colon, tail = rest.rpartition(":")
    if colon and "/" not in tail:
        rest, tag = head, tail
        if not _TAG.fullmatch(tag):
            raise BadReference(f"docker reference {text!r}: bad tag {tag!r}")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        if not _HOST.fullmatch(first):
            raise BadReference(f"docker reference {text!r}: bad registry host {first!r}")
        registry, repository = first, remainder
    else:
        registry, repository = DOCKER_HUB, rest
    if registry in (DOCKER_HUB, "index.docker.io"):
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    if not repository or not all(_COMPONENT.fullmatch(c) for c in repository.split("/")):
        raise BadReference(f"docker reference {text!r}: bad repository name {repository!r} "
                           "(lowercase letters, digits and separators . _ - /)")
    if tag is None and not at:
        tag = "latest"
    return DockerReference(registry, repository, tag, digest or None)
