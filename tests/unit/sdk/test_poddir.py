"""PodDir: reading a path makes nothing; writers make what they write into."""

from __future__ import annotations

from pathlib import Path

from rkt_sdk.poddir import PodDir
from rkt_sdk.vm.record import cleanup_stage1_data, read_record


def test_stage1_data_is_not_made_by_reading(tmp_path: Path) -> None:
    pd = PodDir(tmp_path)
    assert pd.stage1_data == tmp_path / "stage1-data"
    assert not (tmp_path / "stage1-data").exists()


def test_gc_side_readers_leave_no_stage1_data(tmp_path: Path) -> None:
    """What a VM flavor's gc and status read on a pod that never ran creates nothing."""
    assert read_record(tmp_path) == {}
    cleanup_stage1_data(tmp_path)
    _ = PodDir(tmp_path).stage1_data / "supervisor.sock"
    assert list(tmp_path.iterdir()) == []


def test_make_stage1_data_makes_it_once(tmp_path: Path) -> None:
    pd = PodDir(tmp_path)
    d = pd.make_stage1_data()
    assert d.is_dir() and d == pd.stage1_data
    (d / "f").write_text("x")
    assert pd.make_stage1_data() == d and (d / "f").read_text() == "x"
