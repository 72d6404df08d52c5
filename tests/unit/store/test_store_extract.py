"""Safe extraction: hostile archives are refused with one clear error and leave the store unchanged;
legitimate archives come out with their modes, owners, times, links and special files."""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from pathlib import Path

import pytest

from rkt.store import ImageError, Store
from rkt.store.extract import Limits
from tests.support import hostile
from tests.support.aci import build_aci
from tests.support.hostile import CASES, build, dir_, fifo, hard, manifest_entry, reg, store_snapshot, sym


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "cas", durable=False)
    s.import_file(build_aci(tmp_path / "good.aci"))  # a store already holding an image
    return s


def _refused(store: Store, path: Path, expected: str) -> str:
    before = store_snapshot(store.root)
    rows = store.images()
    with pytest.raises(ImageError) as ei:
        store.import_file(path, display=path.name)
    msg = str(ei.value)
    assert msg.startswith(f'image "{path.name}": '), msg
    assert expected in msg
    assert "\n" not in msg
    assert store_snapshot(store.root) == before
    assert store.images() == rows
    assert os.listdir(store.layout.tmp) == []
    return msg


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_is_refused(store: Store, tmp_path: Path, case: str) -> None:
    entries, expected = CASES[case]
    _refused(store, build(tmp_path / f"{case}.aci", entries), expected)


@pytest.mark.parametrize("case", sorted(hostile.outside_cases(Path("/x"))))
def test_nothing_is_written_outside(store: Store, tmp_path: Path, case: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    entries, expected = hostile.outside_cases(outside)[case]
    _refused(store, build(tmp_path / f"{case}.aci", entries), expected)
    assert os.listdir(outside) == []


def test_hostile_entry_in_compressed_archive(store: Store, tmp_path: Path) -> None:
    entries, expected = CASES["dotdot"]
    _refused(store, build(tmp_path / "evil.aci", entries, compression="zst"), expected)


def test_rootfs_must_be_a_directory(store: Store, tmp_path: Path) -> None:
    path = build(tmp_path / "r.aci", [manifest_entry(), sym("rootfs", "/")], with_manifest=False)
    _refused(store, path, 'entry "rootfs" is not a directory')


def test_manifest_twice(store: Store, tmp_path: Path) -> None:
    _refused(store, build(tmp_path / "m.aci", [manifest_entry()]), 'entry "manifest" appears twice')


def test_missing_manifest(store: Store, tmp_path: Path) -> None:
    path = build(tmp_path / "m.aci", [dir_("rootfs"), reg("rootfs/x")], with_manifest=False)
    _refused(store, path, "no manifest in the archive")


def test_bad_manifest(store: Store, tmp_path: Path) -> None:
    m = hostile.make_manifest()
    m["labels"] = [lab for lab in m["labels"] if lab["name"] != "os"]
    path = build(tmp_path / "m.aci", [reg("manifest", hostile.json.dumps(m)), dir_("rootfs")], with_manifest=False)
    msg = _refused(store, path, "missing os label in the image manifest")
    assert msg == 'image "m.aci": missing os label in the image manifest'


def test_size_limit(tmp_path: Path) -> None:
    store = Store(tmp_path / "cas", durable=False, limits=Limits(max_size=1 << 20, max_entries=100))
    store.import_file(build(tmp_path / "small.aci", [reg("rootfs/a", b"a" * 1000)]))
    msg = _refused(store, build(tmp_path / "big.aci", [reg("rootfs/big", b"\0" * (2 << 20))], compression="gz"),
                   'entry "rootfs/big" (2097152 bytes) takes the image over the size limit of 1048576 bytes')
    assert "RKT_MAX_IMAGE_SIZE" in msg


def test_size_limit_counts_trailing_bytes(tmp_path: Path) -> None:
    """A bomb hidden after the end-of-archive marker is stopped too (the id covers the whole stream)."""
    store = Store(tmp_path / "cas", durable=False, limits=Limits(max_size=1 << 20, max_entries=100))
    store.import_file(build(tmp_path / "small.aci", [reg("rootfs/a")]))
    raw = hostile.tar_bytes([manifest_entry(), dir_("rootfs")]) + b"\0" * (8 << 20)
    bomb = tmp_path / "bomb.aci"
    bomb.write_bytes(gzip.compress(raw, 9))
    assert bomb.stat().st_size < 64 << 10
    _refused(store, bomb, "uncompressed size exceeds the limit of 1048576 bytes")


def test_size_limit_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RKT_MAX_IMAGE_SIZE", "1M")
    monkeypatch.setenv("RKT_MAX_IMAGE_ENTRIES", "7")
    store = Store(tmp_path / "cas", durable=False)
    assert store.limits == Limits(1 << 20, 7)


def test_entry_limit(tmp_path: Path) -> None:
    store = Store(tmp_path / "cas", durable=False, limits=Limits(max_size=1 << 30, max_entries=20))
    store.import_file(build(tmp_path / "ok.aci", [reg(f"rootfs/f{i}") for i in range(10)]))
    _refused(store, build(tmp_path / "many.aci", [reg(f"rootfs/f{i}") for i in range(30)]),
             "archive has more than 20 entries")


@pytest.mark.parametrize(("cut", "compression", "expected"), [
    (0.5, "", "archive is truncated"),
    (0.5, "gz", "compressed stream is truncated"),
    (0.5, "xz", "compressed stream is truncated"),
    (0.5, "zst", "archive is truncated"),
    (1.0, "garbage", "corrupt"),
    (0.0, "", "archive is empty"),
])
def test_truncated_or_corrupt_stream(store: Store, tmp_path: Path, cut: float, compression: str,
                                     expected: str) -> None:
    raw = hostile.tar_bytes([manifest_entry(), dir_("rootfs"), reg("rootfs/data", os.urandom(200_000))])
    if compression == "garbage":
        data = raw[:1536] + b"\xff" * 512 + raw[2048:]  # overwrite a header in the middle
    else:
        data = hostile.compress(raw, compression)
        data = data[: int(len(data) * cut)]
    path = tmp_path / "broken.aci"
    path.write_bytes(data)
    _refused(store, path, expected)


def test_missing_end_of_archive_marker(store: Store, tmp_path: Path) -> None:
    raw = hostile.tar_bytes([manifest_entry(), dir_("rootfs"), reg("rootfs/a", b"abc")])
    end = -(-len(raw.rstrip(b"\0")) // 512) * 512  # just before the zero blocks that end an archive
    body = raw[:end]
    path = tmp_path / "cut.aci"
    path.write_bytes(body)
    _refused(store, path, "truncated")


def test_corrupt_gzip(store: Store, tmp_path: Path) -> None:
    raw = hostile.tar_bytes([manifest_entry(), dir_("rootfs"), reg("rootfs/data", os.urandom(50_000))])
    data = bytearray(gzip.compress(raw))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.aci"
    path.write_bytes(bytes(data))
    _refused(store, path, "corrupt compressed stream")


def test_not_a_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r'^image "nope.aci": no such file$'):
        store.import_file(tmp_path / "nope.aci", display="nope.aci")
    with pytest.raises(ImageError, match="is a directory"):
        store.import_file(tmp_path, display="dir")


# -- what a legitimate archive keeps ---------------------------------------------------------------

def _legit(tmp_path: Path) -> Path:
    entries = [
        reg("./rootfs/bin/tool", b"#!/bin/sh\n", mode=0o4755),
        dir_("rootfs/home"),
        reg("rootfs/home/user/file", b"mine", mode=0o600),
        sym("rootfs/abs", "/etc/passwd"),
        sym("rootfs/rel", "../../../etc"),
        hard("rootfs/bin/tool2", "rootfs/bin/tool"),
        fifo("rootfs/pipe"),
        reg("rootfs/dup", b"first"),
        reg("rootfs/dup", b"second"),
        sym("rootfs/dupl", "a"),
        sym("rootfs/dupl", "b"),
        dir_("rootfs/ro", mode=0o555),
        reg("rootfs/ro/inside", b"x"),
        reg("other-top-level", b"ignored"),
    ]
    raw_entries = [e.tarinfo() for e in entries]
    for ti in raw_entries:
        if ti.name.startswith("rootfs/home"):
            ti.uid, ti.gid = 1000, 1001
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        m = manifest_entry()
        tf.addfile(m.tarinfo(), io.BytesIO(m.data))
        for e, ti in zip(entries, raw_entries, strict=True):
            tf.addfile(ti, io.BytesIO(e.data) if ti.size else None)
    path = tmp_path / "legit.aci"
    path.write_bytes(buf.getvalue())
    return path


def test_legitimate_entries_are_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "cas", durable=False)
    rec = store.import_file(_legit(tmp_path))
    tree = store.render(rec.id)
    root = tree / "rootfs"
    tool = root / "bin/tool"
    st = tool.stat()
    assert stat.S_IMODE(st.st_mode) == 0o4755
    assert st.st_mtime == 1_600_000_000
    assert (root / "bin/tool2").stat().st_ino == st.st_ino
    home = root / "home/user/file"
    assert (home.stat().st_uid, home.stat().st_gid) == (1000, 1001)
    assert stat.S_IMODE(home.stat().st_mode) == 0o600
    assert (root / "home").stat().st_uid == 1000
    assert os.readlink(root / "abs") == "/etc/passwd"
    assert os.readlink(root / "rel") == "../../../etc"
    assert stat.S_ISFIFO((root / "pipe").lstat().st_mode)
    assert (root / "dup").read_bytes() == b"second"
    assert os.readlink(root / "dupl") == "b"
    assert stat.S_IMODE((root / "ro").stat().st_mode) == 0o555
    assert (root / "ro").stat().st_mtime == 1_600_000_000
    assert (root / "ro/inside").read_bytes() == b"x"
    assert sorted(os.listdir(tree)) == ["manifest", "rendered", "rootfs"]
    assert (tree / "manifest").read_bytes() == manifest_entry().data
