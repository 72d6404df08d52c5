"""Hostile OCI layers: every shape that guards ACIs, and whiteouts trying to reach outside their tree.

Each hostile layer is appended by ``umoci raw add-layer`` to a good image whose other layers
are already stored; ``rkt fetch`` must exit 254 with one line naming the image and the layer,
write nothing outside, and leave the store exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.support import hostile
from tests.support.hostile import CASES, Entry, dir_, reg, store_snapshot, sym
from tests.support.oci import add_layer, busybox_layout

#: ACI cases that have no meaning for a layer (a layer has no manifest and no rootfs/ entry).
SKIP = {"rootfs-is-symlink", "hardlink-to-manifest"}


def in_layer(entries: list[Entry]) -> list[Entry]:
    """ACI entries moved to a layer's root (``rootfs/x`` -> ``x``)."""
    def strip(name: str) -> str:
        return name[len("rootfs/"):] if name.startswith("rootfs/") else name

    return [replace(e, name=strip(e.name), linkname=strip(e.linkname)) for e in entries if e.name != "rootfs"]


def whiteout_cases(outside: Path) -> dict[str, list[Entry]]:
    o = str(outside)
    return {
        "whiteout-of-dot": [dir_("etc"), reg("etc/.wh..", b"")],
        "whiteout-of-dotdot": [dir_("etc"), reg("etc/.wh...", b"")],
        "whiteout-dotdot-path": [reg("../.wh.etc", b"")],
        "whiteout-deep-dotdot": [reg("etc/../../../.wh.tmp", b"")],
        "whiteout-absolute": [reg(o + "/.wh.keep", b"")],
        "whiteout-through-symlink": [sym("evil", o), reg("evil/.wh.keep", b"")],
        "opaque-through-symlink": [sym("evil", o), reg("evil/.wh..wh..opq", b"")],
        "whiteout-through-relative-symlink": [sym("up", "../../../../../../.." + o), reg("up/.wh.keep", b"")],
        "entry-under-whiteout": [reg(".wh.a", b""), reg("a/b")],
        "whiteout-as-directory": [reg(".wh.x/y")],
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return busybox_layout(tmp_path_factory.mktemp("oci-hostile") / "base", "v1")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "keep").write_text("keep\n")
    return d


@pytest.fixture
def seeded(rkt: Any, base: Path, data_dir: Path) -> Path:
    rkt.run_ok("fetch", f"oci:{base}:v1")
    return data_dir / "cas"


def _refused(rkt: Any, store: Path, base: Path, tmp_path: Path, entries: list[Entry]) -> str:
    lay = tmp_path / "evil"
    shutil.copytree(base, lay)
    add_layer(lay, "v1", entries)
    before = store_snapshot(store)
    listing = rkt.run_ok("image", "list", "--full").out
    ref = f"oci:{lay}:v1"
    r = rkt("fetch", ref)
    assert r.code == 254, str(r)
    assert r.out == ""
    lines = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(lines) == 1 and lines[0].startswith(f'fetch: image "{ref}": layer sha256:'), r.err
    assert store_snapshot(store) == before
    assert rkt.run_ok("image", "list", "--full").out == listing
    assert os.listdir(store / "tmp") == []
    return lines[0]


@pytest.mark.parametrize("case", sorted(set(CASES) - SKIP))
def test_hostile_layer(rkt: Any, seeded: Path, base: Path, tmp_path: Path, case: str) -> None:
    entries, expected = CASES[case]
    line = _refused(rkt, seeded, base, tmp_path, in_layer(entries))
    assert expected.replace('"rootfs/', '"').split(" ")[0] in line


@pytest.mark.parametrize("case", sorted(hostile.outside_cases(Path("/x"))))
def test_layer_escape_attempts(rkt: Any, seeded: Path, base: Path, tmp_path: Path, outside: Path, case: str) -> None:
    entries, _ = hostile.outside_cases(outside)[case]
    _refused(rkt, seeded, base, tmp_path, in_layer(entries))
    assert os.listdir(outside) == ["keep"]


@pytest.mark.parametrize("case", sorted(whiteout_cases(Path("/x"))))
def test_whiteout_escape_attempts(rkt: Any, seeded: Path, base: Path, tmp_path: Path, outside: Path,
                                  case: str) -> None:
    _refused(rkt, seeded, base, tmp_path, whiteout_cases(outside)[case])
    assert os.listdir(outside) == ["keep"] and (outside / "keep").read_text() == "keep\n"


def test_whiteout_over_a_lower_symlink_stays_in_its_tree(rkt: Any, base: Path, tmp_path: Path, data_dir: Path,
                                                          outside: Path) -> None:
    """A lower layer's symlink to the host, an upper whiteout under its name: the whiteout is made in
    the upper layer's own tree (where ``evil`` is a directory), and the host directory is never touched."""
    lay = tmp_path / "lay"
    shutil.copytree(base, lay)
    add_layer(lay, "v1", [sym("evil", str(outside))])
    add_layer(lay, "v1", [reg("evil/.wh.keep", b"")])
    image_id = rkt.run_ok("fetch", "--full", f"oci:{lay}:v1").out.strip()
    assert os.listdir(outside) == ["keep"] and (outside / "keep").read_text() == "keep\n"
    trees = data_dir / "cas" / "trees"
    top = (trees / f"deps-{image_id}" / "layers").read_text().split()[-1]
    made = trees / ("layer-" + top.replace(":", "-")) / "rootfs" / "evil"
    assert made.is_dir() and not made.is_symlink()
    assert os.stat(made / "keep", follow_symlinks=False).st_rdev == 0


def test_whiteout_of_a_lower_file(rkt: Any, base: Path, tmp_path: Path) -> None:
    lay = tmp_path / "lay"
    shutil.copytree(base, lay)
    add_layer(lay, "v1", [reg("bin/.wh.sh", b"")])
    image_id = rkt.run_ok("fetch", "--full", f"oci:{lay}:v1").out.strip()
    dest = tmp_path / "flat"
    rkt.run_ok("image", "extract", "--rootfs-only", image_id, str(dest))
    assert not os.path.lexists(dest / "bin/sh") and (dest / "bin/busybox").is_file()
