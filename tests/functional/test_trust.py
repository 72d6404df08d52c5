"""``rkt trust`` and signature checks as a user sees them (real gpg keys, real store)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import Result, Rkt
from tests.support.aci import tiny_aci
from tests.support.gpg import GpgHome, Key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Key]]:
    home = GpgHome(tmp_path_factory.mktemp("gnupg"))
    yield {"signer": home.new_key("Image Signer <signer@example.com>"),
           "stranger": home.new_key("Someone Else <else@example.org>"),
           "old": home.new_key("Old Signer <old@example.com>", expire="1d", faked_time="20200101T000000"),
           "doomed": home.new_key("Revoked Signer <revoked@example.com>")}
    home.close()


class Trusting:
    """``rkt`` with this test's own config dirs (the keystore lives there)."""

    def __init__(self, rkt: Rkt, root: Path) -> None:
        rkt.insecure_image = False
        self.rkt = rkt
        self.local = root / "local"
        self.system = root / "system"

    def __call__(self, *args: str) -> Result:
        return self.rkt(f"--local-config={self.local}", f"--system-config={self.system}", *args)

    def argv(self, *args: str) -> list[str]:
        return self.rkt.argv((f"--local-config={self.local}", f"--system-config={self.system}", *args))


@pytest.fixture
def trk(rkt: Rkt, tmp_path: Path) -> Trusting:
    return Trusting(rkt, tmp_path)


def test_trust_needs_review_or_skip_flag(trk: Trusting, keys: dict[str, Key]) -> None:
    k = keys["signer"]
    r = trk("trust", "--prefix=example.com/app", str(k.public))
    assert r.code == 254, r
    assert "reviewed on a terminal" in r.err and "--skip-fingerprint-review" in r.err
    assert not (trk.local / "trustedkeys").exists()
    r = trk("trust", "--prefix=example.com/app", "--skip-fingerprint-review", str(k.public))
    assert r.code == 0, r
    path = trk.local / "trustedkeys/prefix.d/example.com/app" / k.fingerprint
    fpr = k.fingerprint.upper()
    assert r.out.splitlines() == [
        'Prefix: "example.com/app"', f'Key: "{k.public}"',
        f"GPG key fingerprint is: {' '.join(fpr[i:i + 4] for i in range(0, 20, 4))}  "
        f"{' '.join(fpr[i:i + 4] for i in range(20, 40, 4))}",
        "  Image Signer <signer@example.com>", f'Trusting "{k.public}" for prefix "example.com/app".',
        f'Added key for prefix "example.com/app" at "{path}"']
    assert path.read_bytes() == k.public.read_bytes()


def _on_pty(argv: list[str], answer: bytes) -> tuple[int, str]:
    master, slave = os.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.close(slave)
    os.write(master, answer)
    out, _ = p.communicate(timeout=30)
    os.close(master)
    return p.returncode, out.decode()


def test_trust_asks_on_a_terminal(trk: Trusting, keys: dict[str, Key]) -> None:
    k = keys["signer"]
    code, out = _on_pty(trk.argv("trust", "--root", str(k.public)), b"no\n")
    assert code == 254 and "Are you sure you want to trust this key (yes/no)?" in out and "not accepted" in out
    assert not (trk.local / "trustedkeys/root.d" / k.fingerprint).exists()
    code, out = _on_pty(trk.argv("trust", "--root", str(k.public)), b"maybe\nyes\n")
    assert code == 0, out
    assert "Please enter 'yes' or 'no'" in out and "Added root key at" in out
    assert (trk.local / "trustedkeys/root.d" / k.fingerprint).is_file()


def test_trust_refuses_bad_input(trk: Trusting, tmp_path: Path) -> None:
    junk = tmp_path / "junk.asc"
    junk.write_text("hello\n")
    for args, msg in ((("trust", str(junk)), "--prefix required"),
                      (("trust", "--prefix=example.com", "--skip-fingerprint-review", str(junk)),
                       "not an OpenPGP public key"),
                      (("trust", "--root", "--prefix=a.com", str(junk)), "cannot be used together"),
                      (("trust", "--root"), "--root needs a key file"),
                      (("trust", "--prefix=Bad Prefix", str(junk)), "not an image name prefix")):
        r = trk(*args)
        assert r.code == 254 and msg in r.err and len(r.err.splitlines()) == 1, r


def test_list_and_remove(trk: Trusting, keys: dict[str, Key]) -> None:
    s, o = keys["signer"], keys["stranger"]
    assert trk("trust", "--prefix=example.com", "--skip-fingerprint-review", str(s.public)).code == 0
    assert trk("trust", "--root", "--skip-fingerprint-review", str(o.public)).code == 0
    r = trk("trust", "list")
    lines = r.out.splitlines()
    assert lines[0].split() == ["PREFIX", "FINGERPRINT", "UID", "FILE"]
    assert lines[1].startswith("(root)") and o.fingerprint in lines[1] and "Someone Else" in lines[1]
    assert lines[2].startswith("example.com") and s.fingerprint in lines[2]
    data = json.loads(trk("trust", "list", "--format=json").out)
    assert data == [
        {"prefix": "", "root": True, "fingerprint": o.fingerprint, "uids": [o.uid], "scope": "local",
         "file": str(trk.local / "trustedkeys/root.d" / o.fingerprint)},
        {"prefix": "example.com", "root": False, "fingerprint": s.fingerprint, "uids": [s.uid], "scope": "local",
         "file": str(trk.local / "trustedkeys/prefix.d/example.com" / s.fingerprint)}]
    r = trk("trust", "rm", s.fingerprint)
    assert r.code == 0 and "removed" in r.out
    r = trk("trust", "rm", s.fingerprint)
    assert r.code == 254 and "no trusted key" in r.err
    assert [d["fingerprint"] for d in json.loads(trk("trust", "list", "--format=json").out)] == [o.fingerprint]


def test_fetch_verifies_and_image_verify_rechecks(trk: Trusting, keys: dict[str, Key], tmp_path: Path,
                                                  data_dir: Path) -> None:
    s = keys["signer"]
    aci = tiny_aci(tmp_path / "app.aci")
    s.sign(aci)
    tampered = tmp_path / "tampered.aci"
    shutil.copy(aci, tampered)
    shutil.copy(tmp_path / "app.aci.asc", tmp_path / "tampered.aci.asc")
    with open(tampered, "ab") as f:
        f.write(b"\0" * 512)
    assert trk("trust", "--prefix=example.com/app", "--skip-fingerprint-review", str(s.public)).code == 0
    r = trk("fetch", str(tampered))
    assert r.code == 254 and len(r.err.splitlines()) == 1, r
    assert f'image "{tampered}" (example.com/app): the signature does not match the image' in r.err
    assert trk("image", "list", "--no-legend").out == ""
    r = trk("fetch", "--full", str(aci))
    assert r.code == 0 and "verified: signed by Image Signer" in r.err, r
    image_id = r.out.strip()
    r = trk("image", "verify", image_id)
    assert r.code == 0 and "verified, signed by Image Signer" in r.out, r
    assert trk("trust", "rm", s.fingerprint).code == 0
    r = trk("image", "verify", "example.com/app")
    assert r.code == 254 and "no key is trusted" in r.err, r


def test_insecure_image_says_so(trk: Trusting, tmp_path: Path) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    (tmp_path / "app.aci.asc").write_text("not a signature\n")
    r = trk("--insecure-options=image", "fetch", str(aci))
    assert r.code == 0 and "signature verification is disabled" in r.err, r


@pytest.mark.parametrize(("case", "reason"), [
    ("tampered", "the signature does not match the image"),
    ("wrong-prefix", 'which is trusted for prefix "example.org/app", not for "example.com/app"'),
    ("untrusted", "signed by a key that is not trusted for prefix"),
    ("expired", "which is expired"),
    ("revoked", "which is revoked"),
    ("unsigned", "no signature found (app.aci.asc beside it, or --signature=FILE); use --insecure-options=image"),
])
def test_each_refusal_is_one_line_and_stores_nothing(case: str, reason: str, trk: Trusting, keys: dict[str, Key],
                                                     tmp_path: Path, data_dir: Path) -> None:
    aci = tiny_aci(tmp_path / "app.aci")
    signers = {"expired": keys["old"], "revoked": keys["doomed"], "untrusted": keys["stranger"]}
    signer = signers.get(case, keys["signer"])
    signer.sign(aci, faked_time="20200101T010000" if case == "expired" else None)
    prefix = "example.org/app" if case == "wrong-prefix" else "example.com"
    trusted = keys["signer"] if case == "untrusted" else signer
    public = trusted.revoked_public() if case == "revoked" else trusted.public
    dest = trk.local / "trustedkeys/prefix.d" / prefix / trusted.fingerprint  # as an admin puts keys on disk
    dest.parent.mkdir(parents=True)
    dest.write_bytes(public.read_bytes())
    if case == "tampered":
        with open(aci, "ab") as f:
            f.write(b"\0" * 512)
    if case == "unsigned":
        (tmp_path / "app.aci.asc").unlink()
    r = trk("fetch", str(aci))
    assert r.code == 254 and r.err.count("\n") == 1, r
    named = "" if case == "unsigned" else " (example.com/app)"  # unsigned: refused before it is read
    assert r.err.startswith(f'fetch: image "{aci}"{named}: ') and reason in r.err, r
    store = data_dir / "store"
    assert not any((store / d).exists() and any((store / d).iterdir()) for d in ("blobs", "trees", "signatures"))


def test_prepare_checks_the_signature_flag(trk: Trusting, keys: dict[str, Key], tmp_path: Path) -> None:
    s = keys["signer"]
    aci = tiny_aci(tmp_path / "app.aci")
    sig = s.sign(aci, tmp_path / "detached.sig")
    assert trk("trust", "--root", "--skip-fingerprint-review", str(s.public)).code == 0
    bogus = tmp_path / "bogus.sig"
    bogus.write_bytes(keys["stranger"].sign(aci, tmp_path / "other.sig").read_bytes())
    r = trk("prepare", "--stage1-name=fly", str(aci), f"--signature={bogus}", "--exec=/hello")
    assert r.code == 254 and "not trusted" in r.err and trk("image", "list", "--no-legend").out == "", r
    r = trk("prepare", "--stage1-name=fly", str(aci), f"--signature={sig}", "--exec=/hello")
    assert r.code == 0 and "verified: signed by Image Signer" in r.err, r
