"""Removing a pod directory unmounts what is under it first and never deletes through a mount (root)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rkt.pods.prepare import remove_pod_dir
from rkt_sdk.linux.mount import bind, mounts_under

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount")


def test_host_files_behind_a_bind_mount_survive(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "keep").write_text("precious\n")
    pod = tmp_path / "pod"
    target = pod / "apps" / "a" / "rootfs" / "data"
    target.mkdir(parents=True)
    bind(host, target)
    (pod / "file-mount").touch()
    bind(host / "keep", pod / "file-mount")
    assert len(mounts_under(pod)) == 2
    remove_pod_dir(pod)
    assert not pod.exists()
    assert mounts_under(tmp_path) == []
    assert (host / "keep").read_text() == "precious\n"


def test_missing_directory_is_fine(tmp_path: Path) -> None:
    remove_pod_dir(tmp_path / "nope")
