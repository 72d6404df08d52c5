"""Image manifest validation: rkt's messages for missing or bad os/arch labels and other fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rkt_sdk.appc import ImageManifest
from rkt_sdk.errors import ManifestError
from tests.support.aci import manifest


def _parse(m: dict[str, Any]) -> ImageManifest:
    return ImageManifest.from_json(json.dumps(m))


def test_valid_manifest() -> None:
    im = _parse(manifest(env={"A": "1"}))
    assert im.name == "example.com/busybox"
    assert im.label("os") == "linux" and im.label("version") == "1.0"
    assert im.app is not None and im.app.env_dict() == {"A": "1"}
    assert _parse(im.to_dict()) == im


@pytest.mark.parametrize(("labels", "message"), [
    ({"os": None}, "missing os label in the image manifest"),
    ({"arch": None}, "missing arch label in the image manifest"),
    ({"os": "windows"}, 'bad os "windows" (must be one of: [linux])'),
    ({"arch": "mips"}, 'bad arch "mips" for linux (must be one of: [amd64 i386 aarch64 aarch64_be armv6l armv7l '
                       'armv7b ppc64 ppc64le s390x])'),
])
def test_os_arch_labels(labels: dict[str, Any], message: str) -> None:
    with pytest.raises(ManifestError) as ei:
        _parse(manifest(labels=labels))
    assert str(ei.value) == message


@pytest.mark.parametrize(("change", "message"), [
    ({"acKind": "PodManifest"}, 'image manifest: missing or bad acKind (must be "ImageManifest")'),
    ({"name": None}, 'image manifest: missing field "name"'),
    ({"name": "Bad Name"}, "ACIdentifier 'Bad Name' must contain only lower case alphanumeric"),
    ({"app": {"exec": ["sh"]}}, "exec: path 'sh' must be absolute"),
])
def test_other_fields(change: dict[str, Any], message: str) -> None:
    m = manifest()
    m.update(change)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _parse(m)


def test_invalid_json() -> None:
    with pytest.raises(ManifestError, match=r"^image manifest: invalid JSON"):
        ImageManifest.from_json(b"{nope")
