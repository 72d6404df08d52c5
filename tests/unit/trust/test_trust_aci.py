"""ACIs checked before the store keeps anything: every refusal leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.store import Store
from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore
from rkt.trust.policy import ImagePolicy
from rkt.trust.stored import verify_stored
from tests.support.aci import tiny_aci
from tests.support.gpg import Key


@pytest.fixture
def config(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "system", tmp_path / "local"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store", durable=False)


def _trust(config: tuple[Path, Path], prefix: str, key: Key, public: Path | None = None) -> None:
    Keystore(*config).add(prefix, key.fingerprint, (public or key.public).read_bytes())


def _empty(store: Store) -> None:
    assert store.images() == []
    for d in ("blobs", "trees", "signatures"):
        assert not list((store.root / d).glob("*")) if (store.root / d).exists() else True


def test_signed_image_is_stored_with_its_signature(tmp_path: Path, config: tuple[Path, Path], store: Store,
                                                   signer: Key, capsys: pytest.CaptureFixture[str]) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    signer.sign(aci)
    _trust(config, "example.com", signer)
    rec = ImagePolicy(config).fetch(store, str(aci))
    assert rec.name == "example.com/app"
    assert store.signature(rec.id) is not None
    assert store.signature(rec.id).read_bytes() == (tmp_path / "app.aci.asc").read_bytes()  # type: ignore[union-attr]
    assert "verified: signed by Image Signer" in capsys.readouterr().err
    assert "verified" in verify_stored(store, rec.id, config)


@pytest.mark.parametrize("case", ["tampered", "wrong-prefix", "untrusted", "root-only-other"])
def test_refusals_leave_the_store_unchanged(case: str, tmp_path: Path, config: tuple[Path, Path], store: Store,
                                            signer: Key, stranger: Key) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    signer.sign(aci)
    expected = {"tampered": "altered", "wrong-prefix": 'trusted for prefix "example.org"',
                "untrusted": "not trusted for prefix",
                "root-only-other": 'not trusted for "example.com/app" or as a root key'}[case]
    if case == "tampered":
        _trust(config, "example.com/app", signer)
        with open(aci, "ab") as f:
            f.write(b"\0" * 1024)
    elif case == "wrong-prefix":
        _trust(config, "example.org", signer)
    elif case == "untrusted":
        _trust(config, "example.com/app", stranger)
    else:
        _trust(config, "", stranger)
    with pytest.raises(SignatureError, match=expected) as e:
        ImagePolicy(config).fetch(store, str(aci))
    assert str(e.value).startswith(f'image "{aci}" (example.com/app): ')
    _empty(store)


def test_signature_given_with_flag(tmp_path: Path, config: tuple[Path, Path], store: Store, signer: Key) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    sig = signer.sign(aci, tmp_path / "elsewhere.sig")
    _trust(config, "example.com/app", signer)
    rec = ImagePolicy(config, signatures={str(aci): sig}).fetch(store, str(aci))
    assert store.signature(rec.id) is not None


def test_expired_and_revoked_keys_refused(tmp_path: Path, config: tuple[Path, Path], store: Store, old_key: Key,
                                          doomed_key: Key) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    old_key.sign(aci, faked_time="20200101T010000")
    _trust(config, "example.com", old_key)
    with pytest.raises(SignatureError, match="which is expired"):
        ImagePolicy(config).fetch(store, str(aci))
    _empty(store)
    doomed_key.sign(aci)
    _trust(config, "example.com", doomed_key, doomed_key.revoked_public())
    with pytest.raises(SignatureError, match="which is revoked"):
        ImagePolicy(config).fetch(store, str(aci))
    _empty(store)


def test_insecure_image_skips_and_says_so(tmp_path: Path, config: tuple[Path, Path], store: Store,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    (tmp_path / "app.aci.asc").write_text("garbage")
    rec = ImagePolicy(config, frozenset({"image"})).fetch(store, str(aci))
    assert store.signature(rec.id) is None
    assert "signature verification is disabled" in capsys.readouterr().err
    with pytest.raises(SignatureError, match="no signature is stored"):
        verify_stored(store, rec.id, config)


def test_verify_stored_sees_todays_keys(tmp_path: Path, config: tuple[Path, Path], store: Store,
                                        signer: Key) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    signer.sign(aci)
    _trust(config, "example.com", signer)
    rec = ImagePolicy(config).fetch(store, str(aci))
    Keystore(*config).remove(signer.fingerprint)
    with pytest.raises(SignatureError, match="no key is trusted"):
        verify_stored(store, rec.id, config)
