"""Checking detached signatures with sqv (real sqv, gpg and gpgv), and the gpgv fallback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rkt.trust import gpg
from rkt.trust.errors import TrustError
from rkt.trust.gpg import Check, KeyInfo, parse_colons
from rkt.trust.sqv import REASON_LIMIT, SqvCheck, detached_check, sqv_binary, sqv_reason, usable
from tests.support.gpg import Key

pytestmark = pytest.mark.skipif(shutil.which("sqv") is None, reason="sqv is not installed (scripts/setup-host)")


def _check(keys: list[Path], sig: Path, data: Path | None, **kw: bool) -> SqvCheck:
    sqv = sqv_binary()
    assert sqv is not None
    return SqvCheck(sqv, keys, sig, data, **kw)


@pytest.fixture
def only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``only("sqv", "gpg")``: the checks find just these programs (the others are not installed)."""

    def restrict(*names: str) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name in names:
            found = shutil.which(name)
            assert found is not None
            os.symlink(found, bin_dir / name)
        monkeypatch.setitem(gpg.ENV, "PATH", str(bin_dir))

    return restrict


def test_good_signature_names_the_signer(tmp_path: Path, signer: Key, stranger: Key) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    v = _check([stranger.public, signer.public], sig, data).verdict()
    assert (v.status, v.fingerprint, v.uid) == ("good", signer.fingerprint, signer.uid)


def test_success_needs_no_gpgv(tmp_path: Path, signer: Key, stranger: Key, only: Callable[..., None]) -> None:
    """The good path is sqv and a gpg key listing; gpgv is run only to word a refusal."""
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    only("sqv", "gpg")
    assert _check([signer.public], sig, data).verdict().status == "good"
    with pytest.raises(TrustError, match="gpgv is not installed"):
        _check([stranger.public], sig, data).verdict()


def test_refusals_are_worded_as_gpgv_words_them(tmp_path: Path, signer: Key, stranger: Key, old_key: Key,
                                                doomed_key: Key) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    assert _check([stranger.public], sig, data).verdict().status == "nokey"
    assert _check([], sig, data).verdict().status == "nokey"
    # sqv alone accepts this one: the key was valid when it signed; it has expired since.
    old_sig = old_key.sign(data, tmp_path / "old.asc", faked_time="20200101T010000")
    v = _check([old_key.public], old_sig, data).verdict()
    assert (v.status, v.fingerprint) == ("expired", old_key.fingerprint)
    doomed_sig = doomed_key.sign(data, tmp_path / "doomed.asc")
    v = _check([doomed_key.revoked_public()], doomed_sig, data).verdict()
    assert (v.status, v.fingerprint) == ("revoked", doomed_key.fingerprint)
    garbage = tmp_path / "garbage.asc"
    garbage.write_bytes(b"not a signature\n")
    assert _check([signer.public], garbage, data).verdict().status == "error"
    data.write_bytes(b"payload, altered\n")
    assert _check([signer.public], sig, data).verdict().status == "bad"


def test_what_gpgv_takes_but_sqv_refuses_is_refused(tmp_path: Path, signer: Key) -> None:
    """A SHA-1 signature: gpgv 2.2 accepts it, sqv's policy does not; sqv has the last word."""
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = tmp_path / "sha1.asc"
    signer.home.gpg("--yes", "--digest-algo", "SHA1", "--local-user", signer.fingerprint, "--armor",
                    "--detach-sign", "--output", str(sig), str(data))
    assert Check([signer.public], sig, data).verdict().status == "good"
    v = _check([signer.public], sig, data).verdict()
    assert v.status == "refused" and "SHA1" in v.detail and "\n" not in v.detail


def _stream(check: SqvCheck, data: bytes, chunk: int = 1 << 20) -> None:
    for off in range(0, len(data), chunk):
        check.feed(data[off:off + chunk])


def test_streamed_check_reads_every_byte_fed(tmp_path: Path, signer: Key) -> None:
    """More than the pipe holds, fed faster than sqv reads: the whole of it is hashed, in order."""
    payload = os.urandom(3 << 20) * 4  # 12 MiB, past the pipe's buffer
    data = tmp_path / "data"
    data.write_bytes(payload)
    sig = signer.sign(data)
    good = _check([signer.public], sig, None, streamed=True)
    _stream(good, payload, 1000_003)
    assert good.verdict().status == "good"
    altered = bytearray(payload)
    altered[len(altered) // 2] ^= 1
    (tmp_path / "altered").write_bytes(altered)
    bad = _check([signer.public], sig, None, streamed=True)
    _stream(bad, bytes(altered))
    assert bad.verdict(tmp_path / "altered").status == "bad"  # worded by gpgv on the file written
    unsaid = _check([signer.public], sig, None, streamed=True)
    _stream(unsaid, payload[:-1])
    v = unsaid.verdict()  # no file to read again: sqv's own words
    assert v.status == "refused" and v.detail


def test_streamed_check_that_sqv_gives_up_on_does_not_hang(tmp_path: Path, signer: Key) -> None:
    garbage = tmp_path / "garbage.asc"
    garbage.write_bytes(b"not a signature\n")
    data = tmp_path / "zeros"
    data.write_bytes(bytes(48 << 20))
    check = _check([signer.public], garbage, None, streamed=True)
    _stream(check, data.read_bytes())  # beyond what is queued before feed() waits for sqv
    assert check.verdict(data).status == "error"
    cancelled = _check([signer.public], garbage, None, streamed=True)
    _stream(cancelled, bytes(8 << 20))
    cancelled.cancel()
    assert cancelled._proc is not None and cancelled._proc.returncode is not None


def test_sqv_where_installed_else_gpgv(tmp_path: Path, signer: Key, only: Callable[..., None]) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    check = detached_check([signer.public], sig, data)
    assert isinstance(check, SqvCheck) and check.verdict().status == "good"
    only("gpg", "gpgv")
    fallback = detached_check([signer.public], sig, None, streamed=True)
    assert isinstance(fallback, Check)
    fallback.feed(data.read_bytes())
    v = fallback.verdict()
    assert (v.status, v.fingerprint, v.uid) == ("good", signer.fingerprint, signer.uid)


def test_a_key_whose_signing_subkey_expired_is_not_usable() -> None:
    listing = ("pub:-:255:22:AAAA:1700000000:::-:::sc::::::::0:\nfpr:::::::::" + "A" * 40 + ":\n"
               "uid:-::::1700000000::X::Someone <a@example.com>::::::::::0:\n"
               "sub:e:255:22:BBBB:1700000000:1700086400:::::s:::::ed25519::\nfpr:::::::::" + "B" * 40 + ":\n"
               "sub:-:255:18:CCCC:1700000000::::::e:::::cv25519::\n")
    [key] = parse_colons(listing)
    assert key.signing_subkeys == ("e",) and not usable(key)
    assert usable(KeyInfo("a" * 40, (), 0, 0, "-", ("-",)))
    assert not usable(KeyInfo("a" * 40, (), 0, 0, "r"))


def test_sqv_reason_is_one_line() -> None:
    text = ("Verifying signature:\n           Message has been manipulated\n"
            "0 of 1 signatures are valid (threshold is: 1).\n")
    assert sqv_reason(text) == "Message has been manipulated"
    assert sqv_reason("") == "no valid signature"
    long = sqv_reason("Missing key ABCD, which is needed to verify signature.\n" * 50)
    assert len(long) == REASON_LIMIT and long.endswith("...")
