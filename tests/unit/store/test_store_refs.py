"""Image references and ids as the store reads them, and rkt's human sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.cli.image import human_size
from rkt.store.ids import id_prefix, is_full_id, short_id
from rkt.store.refs import parse_ref, split_name


def test_ref_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "local").write_bytes(b"")
    assert parse_ref("sha512-abcd").kind == "id"
    assert parse_ref("/abs/x.tar").path == Path("/abs/x.tar")
    assert parse_ref("file:///a%20b/x.aci").path == Path("/a b/x.aci")
    assert parse_ref("local").kind == "file"  # an existing regular file
    assert parse_ref("missing.aci").kind == "file"
    assert parse_ref("https://example.com/x.aci").kind == "remote"
    r = parse_ref("example.com/app:1.2")
    assert (r.kind, r.name, r.version) == ("name", "example.com/app", "1.2")
    assert parse_ref("example.com/app").version is None


def test_split_name_keeps_ports() -> None:
    assert split_name("example.com:5000/app") == ("example.com:5000/app", None)
    assert split_name("example.com:5000/app:v1") == ("example.com:5000/app", "v1")


def test_ids() -> None:
    full = "sha512-" + "ab" * 64
    assert is_full_id(full) and not is_full_id(full[:-1])
    assert short_id(full) == "sha512-" + "ab" * 16
    assert id_prefix("SHA512-ABC") == "sha512-abc"
    for bad in ("sha512-", "sha512-g1", "sha512-" + "a" * 129):
        with pytest.raises(ValueError):
            id_prefix(bad)


@pytest.mark.parametrize(("n", "text"), [(0, "0B"), (1023, "1023B"), (1024, "1.0KiB"), (1258291, "1.2MiB"),
                                         (150 << 20, "150MiB"), (3 << 30, "3.0GiB")])
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text
