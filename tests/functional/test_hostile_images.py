"""``rkt fetch`` of hostile or broken archives: one line naming the image and the entry, exit 254,
and the store exactly as it was (no blob, no row, no tree, no temporary leftovers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import hostile
from tests.support.aci import build_aci
from tests.support.hostile import CASES, build, store_snapshot


@pytest.fixture
def seeded(rkt: Any, tmp_path: Path, data_dir: Path) -> Path:
    """A store that already holds one image; returns the store root."""
    rkt.run_ok("fetch", str(build_aci(tmp_path / "good.aci")))
    return data_dir / "cas"


def _refused(rkt: Any, store: Path, path: Path, expected: str, ref: str | None = None) -> None:
    before = store_snapshot(store)
    listing = rkt.run_ok("image", "list", "--full").out
    ref = ref or str(path)
    r = rkt("fetch", ref)
    assert r.code == 254, str(r)
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith(f'fetch: image "{ref}": '), r.err
    assert expected in r.err
    assert store_snapshot(store) == before
    assert rkt.run_ok("image", "list", "--full").out == listing
    assert os.listdir(store / "tmp") == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile(rkt: Any, seeded: Path, tmp_path: Path, case: str) -> None:
    entries, expected = CASES[case]
    _refused(rkt, seeded, build(tmp_path / f"{case}.aci", entries, compression="gz"), expected)


@pytest.mark.parametrize("case", sorted(hostile.outside_cases(Path("/x"))))
def test_escape_attempts_write_nothing_outside(rkt: Any, seeded: Path, tmp_path: Path, case: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    entries, expected = hostile.outside_cases(outside)[case]
    _refused(rkt, seeded, build(tmp_path / f"{case}.aci", entries), expected)
    assert os.listdir(outside) == []


def test_relative_path_is_named_as_given(rkt: Any, seeded: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    entries, _ = CASES["dotdot"]
    build(tmp_path / "evil.aci", entries)
    monkeypatch.chdir(tmp_path)
    _refused(rkt, seeded, tmp_path / "evil.aci", 'image "evil.aci": entry "rootfs/../etc/passwd" escapes the root',
             ref="evil.aci")


def test_decompression_bomb(rkt: Any, seeded: Path, tmp_path: Path) -> None:
    path = build(tmp_path / "bomb.aci", [hostile.reg("rootfs/zeros", b"\0" * (32 << 20))], compression="xz")
    assert path.stat().st_size < 1 << 20
    before = store_snapshot(seeded)
    r = rkt("fetch", str(path), env={**os.environ, "RKT_MAX_IMAGE_SIZE": "16M"})
    assert r.code == 254
    assert 'entry "rootfs/zeros" (33554432 bytes) takes the image over the size limit of 16777216 bytes' in r.err
    assert store_snapshot(seeded) == before


def test_truncated(rkt: Any, seeded: Path, tmp_path: Path) -> None:
    good = build_aci(tmp_path / "other.aci", version="2", compression="gz")
    cut = tmp_path / "cut.aci"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _refused(rkt, seeded, cut, "compressed stream is truncated")
