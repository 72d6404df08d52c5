"""Simple-signing signatures kept with a registry image, checked again (``rkt image verify``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rkt.images.docker_reference import parse_docker_reference
from rkt.trust.errors import SignatureError
from rkt.trust.kept import kept_document, verify_kept
from rkt.trust.keystore import Keystore
from rkt.trust.simple import manifest_digest
from tests.support.gpg import Key
from tests.unit.trust.test_trust_simple import REF, skopeo_sign


@pytest.fixture(scope="module")
def signed(signer: Key, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """(manifest, signature) of a one-layer image made by umoci and signed by skopeo."""
    import subprocess

    oci = tmp_path_factory.mktemp("oci") / "oci"
    for argv in (["umoci", "init", "--layout", str(oci)], ["umoci", "new", "--image", f"{oci}:v1"]):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return skopeo_sign(signer, oci, REF, tmp_path_factory.mktemp("signed") / "dir")


def _dirs(tmp_path: Path, key: Key | None) -> tuple[Path, ...]:
    dirs = (tmp_path / "system", tmp_path / "local")
    if key is not None:
        Keystore.from_config_dirs(dirs).add("localhost:5000/team", key.fingerprint, key.public.read_bytes())
    return dirs


def test_kept_signature_verifies_with_todays_keys(tmp_path: Path, signed: tuple[bytes, bytes], signer: Key) -> None:
    manifest, sig = signed
    doc = kept_document(parse_docker_reference(REF), manifest, manifest, [sig])
    assert "signed" not in json.loads(doc)
    assert verify_kept(doc, manifest, _dirs(tmp_path, signer), REF).fingerprint == signer.fingerprint
    with pytest.raises(SignatureError, match="no key is trusted"):
        verify_kept(doc, manifest, _dirs(tmp_path / "none", None), REF)


def test_altered_manifest_or_unreadable_document_refused(tmp_path: Path, signed: tuple[bytes, bytes],
                                                         signer: Key) -> None:
    manifest, sig = signed
    dirs = _dirs(tmp_path, signer)
    doc = kept_document(parse_docker_reference(REF), manifest, manifest, [sig])
    with pytest.raises(SignatureError, match="signs another manifest"):
        verify_kept(doc, manifest + b" ", dirs, REF)
    with pytest.raises(SignatureError, match="kept signatures are unreadable"):
        verify_kept(b"{", manifest, dirs, REF)


def test_signed_index_must_name_the_stored_manifest(tmp_path: Path, signed: tuple[bytes, bytes],
                                                    signer: Key) -> None:
    manifest, sig = signed
    index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": manifest_digest(b"other")}]}).encode()
    doc = kept_document(parse_docker_reference(REF), index, manifest, [sig])
    with pytest.raises(SignatureError, match="does not name the stored manifest"):
        verify_kept(doc, manifest, _dirs(tmp_path, signer), REF)
    listed = json.dumps({"schemaVersion": 2, "manifests": [{"digest": manifest_digest(manifest)}]}).encode()
    doc = kept_document(parse_docker_reference(REF), listed, manifest, [sig])
    with pytest.raises(SignatureError, match="signs another manifest"):  # the signature is of the manifest
        verify_kept(doc, manifest, _dirs(tmp_path, signer), REF)
