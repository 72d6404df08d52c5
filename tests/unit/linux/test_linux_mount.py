"""rkt_sdk.linux.mount: resolving paths inside an image root, and mount errors, on the real kernel."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from rkt_sdk.linux import ns
from rkt_sdk.linux.mount import MS_BIND, MS_PRIVATE, MS_REC, MountError, mount, resolve_in_root
from tests.unit.linux.conftest import in_child


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A small image root with links that try to lead out of it."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "abs").symlink_to("/etc")  # absolute: taken inside the root
    (root / "up").symlink_to("../../../..")  # climbing above the root stops at it
    (root / "etc" / "rel").symlink_to("../etc/passwd")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    return root


def test_absolute_link_is_resolved_inside_the_root(image: Path) -> None:
    assert resolve_in_root(image, "/abs/passwd") == image / "etc" / "passwd"


def test_dotdot_and_relative_links_stop_at_the_root(image: Path) -> None:
    assert resolve_in_root(image, "/../../etc/passwd") == image / "etc" / "passwd"
    assert resolve_in_root(image, "/up/etc/passwd") == image / "etc" / "passwd"
    assert resolve_in_root(image, "/etc/rel") == image / "etc" / "passwd"
    assert resolve_in_root(str(image), "etc/./rel") == image / "etc" / "passwd"


def test_missing_components_are_kept_as_given(image: Path) -> None:
    assert resolve_in_root(image, "/abs/new/dir") == image / "etc" / "new" / "dir"
    assert resolve_in_root(image, "/") == image


def test_a_link_loop_is_an_error_naming_the_path(image: Path) -> None:
    with pytest.raises(MountError, match="loop1"):
        resolve_in_root(image, "/loop1/x")


def test_mount_error_names_target_and_carries_errno(tmp_path: Path, root_only: None) -> None:
    missing = tmp_path / "missing"

    def child() -> list[object]:
        ns.unshare(ns.CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        try:
            mount(str(tmp_path), str(missing), None, MS_BIND)
        except MountError as e:
            return [e.errno, str(e)]
        return []

    code, (err, msg) = in_child(child)
    assert code == 0
    assert err == errno.ENOENT
    assert str(missing) in msg and os.strerror(errno.ENOENT) in msg
