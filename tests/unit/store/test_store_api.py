"""The Store library API: import, ids, lookup by name, render, touch, remove, gc, export, extract."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from rkt.store import AmbiguousImageId, ImageError, ImageNotFound, Store, StoreError, short_id
from rkt.store.locks import lock_dir
from rkt.trust.fetching import fetch_image
from tests.support.aci import build_aci
from tests.support.hostile import build, reg


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cas", durable=False)


def _sha512(data: bytes) -> str:
    return "sha512-" + hashlib.sha512(data).hexdigest()


def test_fresh_store_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    s = Store(tmp_path / "cas")
    assert s.images() == []
    with pytest.raises(ImageNotFound):
        s.resolve("example.com/busybox")
    assert not (tmp_path / "cas").exists()


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz", "zst"])
def test_each_compression_gives_the_id_of_the_plain_tar(tmp_path: Path, compression: str) -> None:
    store = Store(tmp_path / "cas")  # durable: the synced path too
    plain = build_aci(tmp_path / "plain.aci")
    path = build_aci(tmp_path / f"image.aci{compression}", compression=compression)
    rec = store.import_file(path)
    assert rec.id == _sha512(plain.read_bytes())
    assert rec.name == "example.com/busybox"
    assert rec.labels == {"version": "1.0", "os": "linux", "arch": "amd64"}
    assert rec.size == plain.stat().st_size
    assert abs(rec.import_time - time.time_ns()) < 60e9
    assert (store.render(rec.id) / "rootfs/bin/busybox").stat().st_size > 100_000
    assert store.layout.blob(rec.id).read_bytes() == path.read_bytes()  # kept as fetched


def test_import_twice_is_one_image(store: Store, tmp_path: Path) -> None:
    a = store.import_file(build_aci(tmp_path / "a.aci"))
    b = store.import_file(build_aci(tmp_path / "b.aci", compression="gz"))
    assert a == b
    assert len(store.images()) == 1
    assert os.listdir(store.layout.blobs) == [a.id]
    assert os.listdir(store.layout.tmp) == []


def _tiny(tmp_path: Path, i: int) -> Path:
    return build(tmp_path / f"t{i}.aci", [reg("rootfs/n", str(i))])


def test_ids_full_abbreviated_and_ambiguous(store: Store, tmp_path: Path) -> None:
    seen: dict[str, str] = {}
    pair = None
    for i in range(200):
        rec = store.import_file(_tiny(tmp_path, i))
        p = rec.id[:9]  # sha512- and two hex digits
        if p in seen:
            pair = (seen[p], rec.id)
            break
        seen[p] = rec.id
    assert pair is not None
    a, b = pair
    assert store.resolve(a).id == a
    assert store.resolve(a.upper().replace("SHA512", "sha512")).id == a
    assert store.resolve(short_id(a)).id == a
    common = next(a[:i] for i in range(len(a)) if a[i] != b[i])
    with pytest.raises(AmbiguousImageId, match=rf'^image id "{common}" is ambiguous: 2 images match it'):
        store.resolve(common)
    assert store.resolve(a[: len(common) + 1]).id == a
    with pytest.raises(ImageNotFound, match="too short"):
        store.resolve("sha512-a")
    with pytest.raises(ImageNotFound, match="bad image id"):
        store.resolve("sha512-xyz")
    missing = "sha512-" + ("0" if a[7] != "0" else "1") * 40
    with pytest.raises(ImageNotFound, match=rf'^unable to find image "{missing}": no image with that id'):
        store.resolve(missing)


def test_names_and_versions(store: Store, tmp_path: Path) -> None:
    v1 = store.import_file(build_aci(tmp_path / "1.aci", version="1.0"))
    v2 = store.import_file(build_aci(tmp_path / "2.aci", version="2.0"))
    other = store.import_file(build_aci(tmp_path / "o.aci", name="example.com/other", version="latest"))
    assert store.resolve("example.com/busybox:1.0") == v1
    assert store.resolve("example.com/busybox:2.0") == v2
    assert store.resolve("example.com/busybox") == v2  # the latest import
    assert store.resolve("example.com/busybox:latest") == v2
    assert store.resolve("example.com/other:latest") == other
    with pytest.raises(ImageNotFound, match=r'unable to find image "example.com/busybox:3.0" in the local store; '
                                            r"fetch it first"):
        store.resolve("example.com/busybox:3.0")
    with pytest.raises(ImageNotFound, match="fetch"):
        fetch_image(store, "example.com/nothing")
    assert fetch_image(store, "example.com/busybox:1.0") == v1


def test_fetch_file_forms(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build_aci(tmp_path / "img.aci")
    monkeypatch.chdir(tmp_path)
    a = fetch_image(store, "img.aci")
    assert fetch_image(store, f"file://{path}") == a
    assert fetch_image(store, str(path)) == a
    assert fetch_image(store, "./img.aci") == a
    with pytest.raises(ImageError, match=r'^image "missing.aci": no such file$'):
        fetch_image(store, "missing.aci")
    with pytest.raises(ImageError, match="not supported"):
        fetch_image(store, "ftp://example.com/x.aci")


def test_manifest_render_tree_touch(store: Store, tmp_path: Path) -> None:
    rec = store.import_file(build_aci(tmp_path / "a.aci", exec_=("/bin/sleep", "1")))
    m = store.manifest(rec.id)
    assert m.name == "example.com/busybox"
    assert m.app is not None and m.app.exec == ("/bin/sleep", "1")
    assert store.tree_id(rec.id) == "deps-" + rec.id
    assert store.tree_id(short_id(rec.id)) == "deps-" + rec.id
    tree = store.render(rec.id)
    assert tree == store.root / "trees" / store.tree_id(rec.id)
    assert (tree / "rendered").read_text() == rec.id + "\n"
    assert store.render(rec.id) == tree
    before = store.resolve(rec.id).last_used
    store.touch(rec.id)
    assert store.resolve(rec.id).last_used > before


def test_gc_trees_and_render_again(store: Store, tmp_path: Path) -> None:
    a = store.import_file(build_aci(tmp_path / "a.aci", version="1"))
    b = store.import_file(build_aci(tmp_path / "b.aci", version="2", compression="xz"))
    ta, tb = store.tree_id(a.id), store.tree_id(b.id)
    assert store.gc_trees({ta}, grace_seconds=3600) == []  # b's tree was used just now
    assert store.gc_trees({ta}) == [tb]
    assert sorted(os.listdir(store.layout.trees)) == [ta]
    tree = store.render(b.id)  # rendered again from the (xz) blob
    assert (tree / "rootfs/etc/passwd").read_text().startswith("root:")
    assert sorted(os.listdir(store.layout.trees)) == sorted([ta, tb])


def test_corrupt_blob_is_detected(store: Store, tmp_path: Path) -> None:
    rec = store.import_file(build_aci(tmp_path / "a.aci"))
    store.gc_trees(set())
    blob = store.layout.blob(rec.id)
    data = bytearray(blob.read_bytes())
    i = data.index(b"root:x:0:0")
    data[i] = ord("R")
    blob.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="does not match its id"):
        store.render(rec.id)
    assert os.listdir(store.layout.trees) == []
    with pytest.raises(ImageError, match="does not match its id"):
        store.export(rec.id, tmp_path / "out.aci")
    assert not (tmp_path / "out.aci").exists()


def test_remove_and_gc_images(store: Store, tmp_path: Path) -> None:
    a = store.import_file(build_aci(tmp_path / "a.aci", version="1"))
    b = store.import_file(build_aci(tmp_path / "b.aci", version="2"))
    store.remove(short_id(a.id))
    assert [r.id for r in store.images()] == [b.id]
    assert not store.layout.blob(a.id).exists()
    assert (store.layout.trees / store.tree_id(a.id)).exists()  # trees go with gc_trees
    with pytest.raises(ImageNotFound):
        store.remove(a.id)
    assert store.gc_images(3600) == []
    assert store.gc_images(0, {store.tree_id(b.id)}) == []  # its tree is used by a pod
    assert [r.id for r in store.gc_images(0)] == [b.id]
    assert store.images() == []
    assert os.listdir(store.layout.blobs) == []


def test_export_round_trip(store: Store, tmp_path: Path) -> None:
    plain = build_aci(tmp_path / "plain.aci")
    rec = store.import_file(build_aci(tmp_path / "a.aci", compression="zst"))
    out = tmp_path / "out.aci"
    store.export(rec.id, out)
    assert out.read_bytes() == plain.read_bytes()
    with pytest.raises(StoreError, match="already exists"):
        store.export(rec.id, out)
    store.export(rec.id, out, overwrite=True)
    other = Store(tmp_path / "other", durable=False)
    assert other.import_file(out).id == rec.id


def test_extract(store: Store, tmp_path: Path) -> None:
    rec = store.import_file(build_aci(tmp_path / "a.aci", files={"/opt/data.txt": "hello"}))
    dest = tmp_path / "x"
    store.extract(rec.id, dest)
    assert sorted(os.listdir(dest)) == ["manifest", "rendered", "rootfs"] or sorted(os.listdir(dest)) == [
        "manifest", "rootfs"]
    assert (dest / "rootfs/opt/data.txt").read_text() == "hello"
    with pytest.raises(StoreError, match="already exists"):
        store.extract(rec.id, dest)
    store.extract(rec.id, dest, rootfs_only=True, overwrite=True)
    assert (dest / "opt/data.txt").read_text() == "hello"
    assert not (dest / "manifest").exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_abandoned_work_is_cleaned_but_live_work_is_not(store: Store, tmp_path: Path) -> None:
    store.layout.ensure()
    dead = store.layout.tmp / "import-dead"
    (dead / "tree/rootfs").mkdir(parents=True)
    live = store.layout.tmp / "import-live"
    live.mkdir()
    fd = lock_dir(live)
    try:
        store.import_file(build_aci(tmp_path / "a.aci"))
        assert os.listdir(store.layout.tmp) == ["import-live"]
    finally:
        os.close(fd)
    store.gc_trees({store.tree_id(store.images()[0].id)})
    assert os.listdir(store.layout.tmp) == []


def test_stored_id_reads_ids_from_the_blobs_without_the_index(store: Store, tmp_path: Path) -> None:
    rec = store.import_file(build_aci(tmp_path / "a.aci", exec_=("/bin/true",)))
    fresh = Store(store.root, durable=False)
    assert fresh.stored_id(short_id(rec.id)) == rec.id
    assert fresh.stored_id(rec.id.upper().replace("SHA512-", "sha512-")) == rec.id
    assert fresh.manifest(rec.id).app is not None
    fresh.render(rec.id)
    fresh.touch(rec.id)
    assert fresh.index._conn is None  # nothing above opened SQLite
    assert fetch_image(fresh, "example.com/busybox:1.0").id == rec.id  # names still come from the index
    twin = rec.id[:9] + "f" * (len(rec.id) - 9)
    (store.root / "blobs" / twin).write_bytes(b"")
    with pytest.raises(AmbiguousImageId, match=rf'image id "{rec.id[:9]}" is ambiguous: 2 images'):
        fresh.stored_id(rec.id[:9])
    with pytest.raises(ImageNotFound, match="too short"):
        fresh.stored_id("sha512-a")
    with pytest.raises(ImageNotFound):
        fetch_image(fresh, "sha512-" + "0" * 30)


def test_last_use_is_kept_when_the_tree_is_removed(store: Store, tmp_path: Path) -> None:
    rec = store.import_file(build_aci(tmp_path / "a.aci"))
    store.touch(rec.id)
    used = store.resolve(rec.id).last_used
    assert used > rec.last_used
    assert store.gc_trees(set()) == [store.tree_id(rec.id)]
    assert store.resolve(rec.id).last_used == used
    assert [r.last_used for r in store.images()] == [used]
