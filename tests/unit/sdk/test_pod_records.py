"""The pod files stage0 writes and everyone reads through PodDir: the stage1 record and each app's image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rkt_sdk.errors import PodDirError
from rkt_sdk.poddir import PodDir, Stage1Record


def test_stage1_record_round_trip_in_rkt_s_field_names(tmp_path: Path) -> None:
    pd = PodDir(tmp_path)
    rec = Stage1Record("coreos", "0.1.0", "rkt-stage1-coreos", 2, overlay=False, status_hook=True)
    pd.write_stage1(rec)
    assert json.loads((tmp_path / "stage1").read_text()) == {
        "name": "coreos", "version": "0.1.0", "distribution": "rkt-stage1-coreos", "interfaceVersion": 2,
        "overlay": False, "statusHook": True, "controlSocket": False}
    assert pd.read_stage1() == rec
    served = rec._replace(control_socket=True)
    pd.write_stage1(served)
    assert '"controlSocket": true' in (tmp_path / "stage1").read_text()
    assert pd.read_stage1() == served


def test_a_stage1_record_of_an_older_rkt_reads_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "stage1").write_text('{"name": "fly", "version": "0.1.0"}\n')
    rec = PodDir(tmp_path).read_stage1()
    assert (rec.name, rec.overlay, rec.status_hook, rec.interface_version) == ("fly", True, False, 1)
    assert rec.control_socket is False


@pytest.mark.parametrize("content", [None, "", "[]", '{"version": "1"}', '{"name": ""}', "{not json"])
def test_a_missing_or_malformed_stage1_record_is_a_pod_dir_error(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "stage1").write_text(content)
    with pytest.raises(PodDirError, match=f"pod {tmp_path.name}"):
        PodDir(tmp_path).read_stage1()


def test_app_image_records_every_tree_and_layer_in_order(tmp_path: Path) -> None:
    pd = PodDir(tmp_path)
    lowers = (Path("/s/trees/top/rootfs"), Path("/s/trees/base/rootfs"))
    pd.write_app_image("web", '{"acKind": "ImageManifest"}\n', ("img", "top", "base"), lowers)
    assert (tmp_path / "appsinfo" / "web" / "treeStoreID").read_text() == "img\ntop\nbase\n"
    assert pd.read_app_lowers("web") == lowers


def test_lowers_of_a_pod_prepared_before_they_were_recorded(tmp_path: Path) -> None:
    info = tmp_path / "appsinfo" / "old"
    info.mkdir(parents=True)
    (info / "treePath").write_text("/s/trees/deps-x\n")
    assert PodDir(tmp_path).read_app_lowers("old") == (Path("/s/trees/deps-x/rootfs"),)
    with pytest.raises(PodDirError):
        PodDir(tmp_path).read_app_lowers("none")
