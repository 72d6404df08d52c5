"""The entry-point index: read from dist-info directories on sys.path, cached per directory."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rkt.stage1.index import EntryPoint, flavors, load_index, scan_dir
from rkt_sdk import PLUGIN_GROUP


def _dist(site: Path, name: str, version: str, entry_points: str, *, egg: bool = False) -> Path:
    d = site / (f"{name}.egg-info" if egg else f"{name.replace('-', '_')}-{version}.dist-info")
    d.mkdir()
    (d / ("PKG-INFO" if egg else "METADATA")).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
                                                         "Name: not-a-header\n")
    (d / "entry_points.txt").write_text(entry_points)
    return d


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    s = tmp_path / "site"
    s.mkdir()
    monkeypatch.syspath_prepend(str(s))
    monkeypatch.delenv("RKT_LOAD_PLUGINS", raising=False)
    return s


def test_scan_reads_rkt_groups_only(site: Path) -> None:
    _dist(site, "rkt-stage1-foo", "1.2", "[console_scripts]\nfoo = x:y\n\n[rkt.stage1]\nfoo = foo_mod.plugin\n"
          "# comment\n[rkt.plugins]\n  audit =  audit.mod:obj  \n")
    _dist(site, "other", "3", "[console_scripts]\nother = o:main\n")
    _dist(site, "legacy", "0.9", "[rkt.stage1]\nlegacy=legacy.plugin\n", egg=True)
    (site / "broken-1.0.dist-info").mkdir()  # no entry_points.txt
    (site / "file.egg-info").write_text("PKG-INFO as a file")
    assert sorted(scan_dir(str(site)), key=lambda e: e.name) == [
        EntryPoint("audit", "rkt.plugins", "audit.mod:obj", "rkt-stage1-foo", "1.2"),
        EntryPoint("foo", "rkt.stage1", "foo_mod.plugin", "rkt-stage1-foo", "1.2"),
        EntryPoint("legacy", "rkt.stage1", "legacy.plugin", "legacy", "0.9"),
    ]


def test_the_built_in_flavors_are_found() -> None:
    assert {"fly", "coreos"} <= set(flavors(None))


def test_install_and_uninstall_are_seen_through_the_cache(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert "foo" not in flavors(cache)
    dist = _dist(site, "rkt-stage1-foo", "1.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    assert flavors(cache)["foo"].dist_version == "1.0"
    data = json.loads((cache / "entry-points.json").read_text())
    assert str(site) in data["dirs"]
    shutil.rmtree(dist)
    _dist(site, "rkt-stage1-foo", "2.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    assert flavors(cache)["foo"].dist_version == "2.0"
    shutil.rmtree(site / "rkt_stage1_foo-2.0.dist-info")
    assert "foo" not in flavors(cache)


def test_a_cached_directory_is_not_read_again(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _dist(site, "rkt-stage1-foo", "1.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    assert "foo" in flavors(cache)
    # an edit inside a dist-info directory leaves the site directory's time alone: the cache answers
    st = os.stat(site)
    (site / "rkt_stage1_foo-1.0.dist-info" / "entry_points.txt").write_text("[rkt.stage1]\nbar = bar.plugin\n")
    os.utime(site, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert "foo" in flavors(cache) and "bar" not in flavors(cache)
    assert "bar" in flavors(None)


def test_the_first_directory_on_sys_path_wins(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later = tmp_path / "later"
    later.mkdir()
    monkeypatch.syspath_prepend(str(later))  # now before ``site``
    _dist(site, "rkt-stage1-foo", "1.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    _dist(later, "rkt-stage1-foo", "9.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    assert flavors(tmp_path / "cache")["foo"].dist_version == "9.0"


def test_allow_list_restricts_what_is_seen(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(site, "rkt-stage1-foo", "1.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n[rkt.plugins]\naudit = a.b\n")
    monkeypatch.setenv("RKT_LOAD_PLUGINS", "fly,audit")
    assert set(flavors(None)) == {"fly"}
    assert [p.name for p in load_index(None) if p.group == PLUGIN_GROUP] == ["audit"]
    assert {e.name for e in load_index(None)} == {"fly", "audit"}


def test_a_corrupt_cache_is_ignored_and_rewritten(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "entry-points.json").write_text("{not json")
    _dist(site, "rkt-stage1-foo", "1.0", "[rkt.stage1]\nfoo = foo_mod.plugin\n")
    assert "foo" in flavors(cache)
    assert json.loads((cache / "entry-points.json").read_text())["version"] == 2
