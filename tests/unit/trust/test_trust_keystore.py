"""The keystore's layout on disk, as rkt kept it, and which keys apply to a name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rkt.trust.errors import TrustError
from rkt.trust.keystore import Keystore, check_prefix, prefix_matches

A = "a" * 40
B = "b" * 40
C = "c" * 40


def _put(path: Path, data: bytes = b"key") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "system", tmp_path / "local"


def test_add_writes_rkt_layout(dirs: tuple[Path, Path]) -> None:
    ks = Keystore(*dirs)
    p = ks.add("example.com/app", A, b"armored")
    assert p == dirs[1] / "trustedkeys/prefix.d/example.com/app" / A
    assert p.read_bytes() == b"armored" and oct(p.stat().st_mode & 0o777) == "0o644"
    r = ks.add("", B, b"root")
    assert r == dirs[1] / "trustedkeys/root.d" / B
    assert [(k.prefix, k.fingerprint, k.scope) for k in ks.trusted()] == [("", B, "local"),
                                                                           ("example.com/app", A, "local")]


def test_prefix_matches_whole_components() -> None:
    assert prefix_matches("example.com/app", "example.com/app")
    assert prefix_matches("example.com/app", "example.com/app/db")
    assert not prefix_matches("example.com/app", "example.com/apple")
    assert not prefix_matches("example.com/app/db", "example.com/app")


def test_longest_prefix_with_keys_and_root_keys_apply(dirs: tuple[Path, Path]) -> None:
    ks = Keystore(*dirs)
    ks.add("example.com", A, b"k")
    ks.add("example.com/app", B, b"k")
    ks.add("", C, b"k")
    prefix, keys = ks.keys_for("example.com/app/db")
    assert prefix == "example.com/app" and {k.fingerprint for k in keys} == {B, C}
    prefix, keys = ks.keys_for("example.com/other")
    assert prefix == "example.com" and {k.fingerprint for k in keys} == {A, C}
    prefix, keys = ks.keys_for("elsewhere.org/x")
    assert prefix == "" and {k.fingerprint for k in keys} == {C}


def test_system_keys_read_and_disabled_by_empty_local_file(dirs: tuple[Path, Path]) -> None:
    system, local = dirs
    _put(system / "trustedkeys/prefix.d/coreos.com/etcd" / A)
    _put(system / "trustedkeys/root.d" / B)
    ks = Keystore(system, local)
    assert {(k.fingerprint, k.scope) for k in ks.trusted()} == {(A, "system"), (B, "system")}
    removed = ks.remove(A)
    assert [k.scope for k in removed] == ["system"]
    assert (local / "trustedkeys/prefix.d/coreos.com/etcd" / A).stat().st_size == 0
    assert (system / "trustedkeys/prefix.d/coreos.com/etcd" / A).exists()
    assert [k.fingerprint for k in ks.trusted()] == [B]
    os.symlink("/dev/null", local / "trustedkeys/prefix.d/coreos.com/etcd" / C)
    assert [k.fingerprint for k in ks.trusted()] == [B]


def test_remove_local_key_prunes_dirs_and_unknown_is_an_error(dirs: tuple[Path, Path]) -> None:
    ks = Keystore(*dirs)
    ks.add("example.com/app/db", A, b"k")
    ks.remove(A.upper())
    assert not (dirs[1] / "trustedkeys/prefix.d/example.com").exists()
    with pytest.raises(TrustError, match="no trusted key with fingerprint"):
        ks.remove(A)


def test_files_not_named_by_fingerprint_are_ignored(dirs: tuple[Path, Path]) -> None:
    _put(dirs[1] / "trustedkeys/root.d/README")
    _put(dirs[1] / "trustedkeys/prefix.d/example.com/.hidden")
    assert Keystore(*dirs).trusted() == []


@pytest.mark.parametrize("bad", ["", "/abs", "Example.com", "a/../b", "a//b", "a b"])
def test_bad_prefixes_refused(bad: str) -> None:
    with pytest.raises(TrustError, match="not an image name prefix"):
        check_prefix(bad)


def test_prefix_normalised() -> None:
    assert check_prefix("example.com/app/") == "example.com/app"
    assert check_prefix("localhost:5000/team") == "localhost:5000/team"
