"""Source references and docker references parse as skopeo and docker read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.images.docker_reference import DockerReference, parse_docker_reference
from rkt.images.errors import BadReference
from rkt.images.reference import SourceRef, parse_source


@pytest.mark.parametrize(("text", "want"), [
    ("busybox", DockerReference("docker.io", "library/busybox", "latest")),
    ("busybox:1.36", DockerReference("docker.io", "library/busybox", "1.36")),
    ("user/app", DockerReference("docker.io", "user/app", "latest")),
    ("index.docker.io/busybox", DockerReference("docker.io", "library/busybox", "latest")),
    ("localhost/app", DockerReference("localhost", "app", "latest")),
    ("127.0.0.1:5000/a/b:v1", DockerReference("127.0.0.1:5000", "a/b", "v1")),
    ("example.com/a@sha256:" + "ab" * 32, DockerReference("example.com", "a", None, "sha256:" + "ab" * 32)),
    ("example.com/a:t@sha256:" + "ab" * 32, DockerReference("example.com", "a", "t", "sha256:" + "ab" * 32)),
    ("host:5000/app", DockerReference("host:5000", "app", "latest")),
])
def test_docker_reference(text: str, want: DockerReference) -> None:
    assert parse_docker_reference(text) == want


def test_docker_reference_text_and_ref() -> None:
    r = parse_docker_reference("busybox")
    assert str(r) == "docker.io/library/busybox:latest"
    assert r.ref == "latest"
    assert r.api_host == "registry-1.docker.io"
    d = parse_docker_reference("h.example/x@sha256:" + "0" * 64)
    assert d.ref == "sha256:" + "0" * 64
    assert d.api_host == "h.example"


@pytest.mark.parametrize("text", ["", "Busybox", "a//b", "busybox:", "busybox:bad/tag", "x@sha256:short",
                                  "h.example/", "-a"])
def test_bad_docker_reference(text: str) -> None:
    with pytest.raises(BadReference):
        parse_docker_reference(text)


def test_parse_source() -> None:
    assert parse_source("oci:/tmp/lay:v2") == SourceRef("oci", "oci:/tmp/lay:v2", path=Path("/tmp/lay"), tag="v2")
    assert parse_source("oci:lay") == SourceRef("oci", "oci:lay", path=Path("lay"))
    assert parse_source("oci-archive:a.tar") == SourceRef("oci-archive", "oci-archive:a.tar", path=Path("a.tar"))
    got = parse_source("docker-archive:d.tar")
    assert got is not None and got.transport == "docker-archive" and got.path == Path("d.tar")
    dk = parse_source("docker://busybox")
    assert dk is not None and dk.display == "docker://docker.io/library/busybox:latest"
    for other in ("busybox", "sha512-abc", "/x/y.aci", "file:///a.aci", "https://h/a.aci", "example.com/app:1"):
        assert parse_source(other) is None


def test_parse_source_errors() -> None:
    for bad in ("oci:", "docker:busybox", "docker://"):
        with pytest.raises(BadReference):
            parse_source(bad)
