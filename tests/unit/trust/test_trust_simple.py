"""Registry images' simple-signing signatures, made by skopeo (the peer that signs in the tests)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from rkt.images.docker_reference import parse_docker_reference
from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore
from rkt.trust.lookaside import lookaside_base, read_signatures
from rkt.trust.simple import manifest_digest, verify_registry_image
from tests.support.gpg import Key

REF = "localhost:5000/team/app:v1"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer OCI layout made by umoci (tag v1)."""
    d = tmp_path_factory.mktemp("oci")
    oci = d / "oci"
    for argv in (["umoci", "init", "--layout", str(oci)], ["umoci", "new", "--image", f"{oci}:v1"]):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return oci


def skopeo_sign(key: Key, layout: Path, identity: str, dest: Path) -> tuple[bytes, bytes]:
    """(manifest, signature-1) of ``skopeo copy --sign-by`` into a ``dir:`` destination."""
    subprocess.run(["skopeo", "copy", "--quiet", "--sign-by", key.fingerprint, "--sign-identity", identity,
                    f"oci:{layout}:v1", f"dir:{dest}"], check=True, capture_output=True, timeout=120,
                   env=dict(os.environ, GNUPGHOME=str(key.home.dir)))
    return (dest / "manifest.json").read_bytes(), (dest / "signature-1").read_bytes()


@pytest.fixture(scope="module")
def signed(layout: Path, signer: Key, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return skopeo_sign(signer, layout, REF, tmp_path_factory.mktemp("signed") / "dir")


def _keystore(tmp_path: Path, prefix: str, key: Key) -> Keystore:
    ks = Keystore(tmp_path / "system", tmp_path / "local")
    ks.add(prefix, key.fingerprint, key.public.read_bytes())
    return ks


def test_skopeo_signature_accepted(tmp_path: Path, signed: tuple[bytes, bytes], signer: Key) -> None:
    manifest, sig = signed
    ks = _keystore(tmp_path, "localhost:5000/team", signer)
    v = verify_registry_image(ks, [sig], parse_docker_reference(REF), manifest, f"docker://{REF}")
    assert v.fingerprint == signer.fingerprint
    by_digest = parse_docker_reference(f"localhost:5000/team/app@{manifest_digest(manifest)}")
    verify_registry_image(ks, [b"garbage", sig], by_digest, manifest, "x")


@pytest.mark.parametrize(("wanted", "prefix", "change", "reason"), [
    (REF, "localhost:5000/team", "tamper", "signs another manifest"),
    ("localhost:5000/team/other:v1", "localhost:5000/team", "", 'is for "localhost:5000/team/app"'),
    ("localhost:5000/team/app:v2", "localhost:5000/team", "", 'is for tag "v1", not "v2"'),
    (REF, "localhost:5000/elsewhere", "",
     'trusted for prefix "localhost:5000/elsewhere", not for "localhost:5000/team/app"'),
    (REF, "localhost:5000/team", "unsigned", "no signature found"),
    (REF, "localhost:5000/team", "garbage", "not an OpenPGP signature"),
])
def test_refused(tmp_path: Path, signed: tuple[bytes, bytes], signer: Key, wanted: str, prefix: str, change: str,
                 reason: str) -> None:
    manifest, sig = signed
    sigs = [sig]
    if change == "tamper":
        doc = json.loads(manifest)
        doc["annotations"] = {"tampered": "yes"}
        manifest = json.dumps(doc).encode()
    elif change == "unsigned":
        sigs = []
    elif change == "garbage":
        sigs = [b"not a signature"]
    ks = _keystore(tmp_path, prefix, signer)
    with pytest.raises(SignatureError, match=reason) as e:
        verify_registry_image(ks, sigs, parse_docker_reference(wanted), manifest, f"docker://{wanted}")
    assert str(e.value).startswith(f'image "docker://{wanted}": ')


def test_signed_by_an_untrusted_key(tmp_path: Path, layout: Path, stranger: Key, signer: Key) -> None:
    manifest, sig = skopeo_sign(stranger, layout, REF, tmp_path / "dir")
    ks = _keystore(tmp_path, "localhost:5000/team", signer)
    with pytest.raises(SignatureError, match="not trusted for prefix"):
        verify_registry_image(ks, [sig], parse_docker_reference(REF), manifest, "x")


def test_lookaside_from_registries_d(tmp_path: Path) -> None:
    conf = tmp_path / "local" / "registries.d"
    conf.mkdir(parents=True)
    store = tmp_path / "sigstore"
    (conf / "a.yaml").write_text(f"docker:\n  localhost:5000:\n    lookaside: file://{store}\n"
                                 f"  localhost:5000/team/special:\n    sigstore: file://{tmp_path}/special\n"
                                 "default-docker:\n  lookaside: https://sigs.example.com/\n")
    dirs = (tmp_path / "system", tmp_path / "local")
    ref = parse_docker_reference(REF)
    assert lookaside_base(ref, dirs) == f"file://{store}"
    assert lookaside_base(parse_docker_reference("localhost:5000/team/special:x"), dirs) == f"file://{tmp_path}/special"
    assert lookaside_base(parse_docker_reference("quay.io/a/b"), dirs) == "https://sigs.example.com"
    digest = "sha256:" + "ab" * 32
    assert read_signatures(ref, digest, dirs) == []
    where = store / f"team/app@sha256={'ab' * 32}"
    where.mkdir(parents=True)
    (where / "signature-1").write_bytes(b"one")
    (where / "signature-2").write_bytes(b"two")
    assert read_signatures(ref, digest, dirs) == [b"one", b"two"]
