"""What a source reference on the command line names, as a record (no I/O).

The transport names are skopeo's: ``docker://[REGISTRY/]REPO[:TAG|@DIGEST]``,
``oci:DIR[:TAG]``, ``oci-archive:FILE[:TAG]`` and ``docker-archive:FILE[:REPO:TAG]``. The first
colon after a local transport's name ends the path (paths holding a colon are not supported,
as in skopeo). Anything else (ids, names, ACI files, ``file://`` and ``https://`` URLs) is not
a source reference and :func:`parse_source` returns None for it.
"""

from __future__ import annotations

from pathlib import Path

from rkt.images.docker_reference import DockerReference, parse_docker_reference
from rkt.images.errors import BadReference
from rkt_sdk.record import Record

TRANSPORTS = ("docker", "oci", "oci-archive", "docker-archive")


class SourceRef(Record):
    """A parsed source reference.

    ``transport`` is one of :data:`TRANSPORTS`; ``text`` is what the user wrote; ``docker`` is
    set for ``docker://``; ``path`` and ``tag`` (None: the only image there) for the local ones.
    """

    transport: str
    text: str
    docker: DockerReference | None = None
    path: Path | None = None
    tag: str | None = None

    @property
    def display(self) -> str:
        """How messages name the image."""
        if self.docker is not None:
            return f"docker://{self.docker}"
        return self.text


def parse_source(text: str) -> SourceRef | None:
    """The source ``text`` names, or None when it names no source transport."""
    if text.startswith("docker://"):
        return SourceRef("docker", text, docker=parse_docker_reference(text[len("docker://"):]))
    transport, colon, rest = text.partition(":")
    if not colon or transport not in TRANSPORTS or rest.startswith("//"):
        return None
    if transport == "docker":
        raise BadReference(f"{text!r}: write docker references as docker://[REGISTRY/]REPO[:TAG]")
    path, _, tag = rest.partition(":")
    if not path:
        raise BadReference(f"{text!r}: no {'directory' if transport == 'oci' else 'file'} given")
    return SourceRef(transport, text, path=Path(path), tag=tag or None)
