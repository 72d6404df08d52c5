"""Reading keys and checking signatures through GnuPG (real gpg and gpgv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.trust.errors import TrustError
from rkt.trust.gpg import Check, inspect_keys, parse_status
from tests.support.gpg import Key


def test_inspect_reads_fingerprint_uids_and_state(signer: Key, old_key: Key, doomed_key: Key) -> None:
    [k] = inspect_keys(signer.public.read_bytes())
    assert k.fingerprint == signer.fingerprint and k.uids == ("Image Signer <signer@example.com>",)
    assert not k.expired and not k.revoked and k.expires == 0
    [old] = inspect_keys(old_key.public.read_bytes())
    assert old.expired and old.expires == 1577923200
    [rev] = inspect_keys(doomed_key.revoked_public().read_bytes())
    assert rev.revoked


def test_inspect_refuses_what_is_not_a_key(tmp_path: Path) -> None:
    with pytest.raises(TrustError, match="not an OpenPGP public key"):
        inspect_keys(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbogus\n-----END PGP PUBLIC KEY BLOCK-----\n")
    with pytest.raises(TrustError):
        inspect_keys(b"")


def test_binary_and_armored_keys_both_verify(tmp_path: Path, signer: Key) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    binary = tmp_path / "signer.gpg"
    binary.write_bytes(signer.home.gpg("--export", signer.fingerprint).stdout)
    for keyfile in (signer.public, binary):
        v = Check([keyfile], sig, data).verdict()
        assert (v.status, v.fingerprint, v.uid) == ("good", signer.fingerprint, signer.uid)


def test_verdicts(tmp_path: Path, signer: Key, stranger: Key, old_key: Key) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = signer.sign(data)
    assert Check([stranger.public], sig, data).verdict().status == "nokey"
    assert Check([], sig, data).verdict().status == "nokey"
    old_sig = old_key.sign(data, tmp_path / "old.asc", faked_time="20200101T010000")
    v = Check([old_key.public], old_sig, data).verdict()
    assert (v.status, v.fingerprint) == ("expired", old_key.fingerprint)
    garbage = tmp_path / "garbage.asc"
    garbage.write_bytes(b"not a signature\n")
    assert Check([signer.public], garbage, data).verdict().status == "error"
    data.write_bytes(b"payload, altered\n")
    assert Check([signer.public], sig, data).verdict().status == "bad"


def test_revoked_key(tmp_path: Path, gpghome: object, doomed_key: Key) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"payload\n")
    sig = doomed_key.sign(data)
    v = Check([doomed_key.revoked_public()], sig, data).verdict()
    assert (v.status, v.fingerprint) == ("revoked", doomed_key.fingerprint)


def test_parse_status_needs_validsig_for_a_good_verdict() -> None:
    assert parse_status("[GNUPG:] GOODSIG 0123 Someone\n").status == "error"
    assert parse_status("[GNUPG:] ERRSIG 0123 22 8 00 1700000000 9 -\n[GNUPG:] NO_PUBKEY 0123\n").status == "nokey"
    assert parse_status("").status == "error"


def _stream(check: Check, data: bytes, chunk: int = 1 << 20) -> None:
    for off in range(0, len(data), chunk):
        check.feed(data[off:off + chunk])


def test_streamed_check_reads_every_byte_fed(tmp_path: Path, signer: Key) -> None:
    """More data than gpgv's input holds at once: the whole of it is hashed, in order."""
    import os

    payload = os.urandom(3 << 20) * 4  # 12 MiB, past the in-flight buffer and the queue's chunks
    data = tmp_path / "data"
    data.write_bytes(payload)
    sig = signer.sign(data)
    good = Check([signer.public], sig, None, streamed=True)
    _stream(good, payload, 1000_003)
    assert good.verdict().status == "good"
    altered = bytearray(payload)
    altered[len(altered) // 2] ^= 1
    bad = Check([signer.public], sig, None, streamed=True)
    _stream(bad, bytes(altered))
    assert bad.verdict().status == "bad"
    short = Check([signer.public], sig, None, streamed=True)
    _stream(short, payload[:-1])
    assert short.verdict().status == "bad"


def test_streamed_check_that_gpgv_gives_up_on_does_not_hang(tmp_path: Path, signer: Key) -> None:
    garbage = tmp_path / "garbage.asc"
    garbage.write_bytes(b"not a signature\n")
    check = Check([signer.public], garbage, None, streamed=True)
    _stream(check, bytes(48 << 20))  # beyond what is queued before feed() waits for gpgv
    assert check.verdict().status == "error"
    cancelled = Check([signer.public], garbage, None, streamed=True)
    _stream(cancelled, bytes(8 << 20))
    cancelled.cancel()
    assert cancelled._proc.returncode is not None
