"""``rkt fetch`` and ``rkt image ...`` as a user runs them, on a data directory per test."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.aci import build_aci, manifest

SUBCOMMANDS = ("list", "rm", "gc", "cat-manifest", "extract", "render", "export")


def _id(path: str | Path) -> str:
    return "sha512-" + hashlib.sha512(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return build_aci(tmp_path / "busybox.aci")


def test_help(rkt: Any) -> None:
    for args in (("fetch", "--help"), ("image", "--help"), *(("image", s, "--help") for s in SUBCOMMANDS)):
        r = rkt(*args)
        assert r.code == 0, str(r)
        assert "usage: rkt " + " ".join(a for a in args if a != "--help") in r.out


def test_fetch_each_compression_prints_one_id(rkt: Any, tmp_path: Path, plain: Path) -> None:
    full = _id(plain)
    paths = [str(build_aci(tmp_path / f"i.{c or 'tar'}", compression=c)) for c in ("", "gz", "bz2", "xz", "zst")]
    r = rkt.run_ok("fetch", *paths)
    assert r.out == (full[:39] + "\n") * 5
    r = rkt.run_ok("--insecure-options=image", "fetch", "--full", f"file://{paths[0]}")
    assert r.out == full + "\n"
    assert rkt.run_ok("fetch", "example.com/busybox:1.0").out == full[:39] + "\n"
    assert rkt.run_ok("fetch", full[:12]).out == full[:39] + "\n"
    rows = rkt.run_ok("image", "list", "--no-legend").out.splitlines()
    assert len(rows) == 1


def test_fetch_unknown_name(rkt: Any) -> None:
    r = rkt("fetch", "example.com/nothing:1")
    assert r.code == 254
    assert r.err.startswith('fetch: unable to find image "example.com/nothing:1"')
    assert "fetch" in r.err.split(":", 1)[1] and r.err.count("\n") == 1


def test_image_list(rkt: Any, tmp_path: Path) -> None:
    a = build_aci(tmp_path / "a.aci", version="1.0")
    b = build_aci(tmp_path / "b.aci", name="example.com/other", version="2.5", files={"/big": os.urandom(300_000)})
    rkt.run_ok("fetch", str(a), str(b))
    out = rkt.run_ok("image", "list").out.splitlines()
    assert out[0].split() == ["ID", "NAME", "SIZE", "IMPORT", "TIME", "LAST", "USED"]
    assert out[1].split()[:3] == [_id(a)[:39], "example.com/busybox:1.0", "1.9MiB"]
    assert out[1].endswith(" ago") and out[1].count(" ago") == 2
    assert out[2].split()[:3] == [_id(b)[:39], "example.com/other:2.5", "2.2MiB"]
    full = rkt.run_ok("image", "list", "--full", "--no-legend").out.splitlines()
    assert full[0].split()[0] == _id(a) and full[0].split()[2] == str(a.stat().st_size)
    assert rkt.run_ok("image", "list", "--fields=name,size", "--no-legend", "--order=desc").out.split() == [
        "example.com/other:2.5", "2.2MiB", "example.com/busybox:1.0", "1.9MiB"]
    data = json.loads(rkt.run_ok("image", "list", "--format=json").out)
    assert [d["id"] for d in data] == [_id(a), _id(b)]
    assert data[0]["name"] == "example.com/busybox"
    assert data[0]["labels"] == {"version": "1.0", "os": "linux", "arch": "amd64"}
    assert data[0]["size"] == a.stat().st_size
    assert data[0]["importTime"] <= data[1]["importTime"] and data[0]["lastUsedTime"] > 0
    r = rkt("image", "list", "--fields=id,bogus")
    assert r.code == 254 and "bogus" in r.err


def test_image_list_empty_store(rkt: Any, data_dir: Path) -> None:
    assert rkt.run_ok("image", "list").out.split() == ["ID", "NAME", "SIZE", "IMPORT", "TIME", "LAST", "USED"]
    assert rkt.run_ok("image", "list", "--format=json").out == "[]\n"
    assert not (data_dir / "cas").exists()


def test_image_rm(rkt: Any, tmp_path: Path) -> None:
    a = build_aci(tmp_path / "a.aci", version="1")
    b = build_aci(tmp_path / "b.aci", version="2")
    rkt.run_ok("fetch", str(a), str(b))
    r = rkt("image", "rm", _id(a)[:20], "sha512-0000", "example.com/busybox:2")
    assert r.code == 254
    assert r.out == (f'successfully removed aci for image: "{_id(a)}" ("example.com/busybox")\n'
                     f'successfully removed aci for image: "{_id(b)}" ("example.com/busybox")\n'
                     "2 image(s) successfully removed\n")
    assert r.err == 'image rm: unable to find image "sha512-0000": no image with that id in the local store\n'
    assert rkt.run_ok("image", "list", "--no-legend").out == ""


def test_image_gc(rkt: Any, tmp_path: Path, data_dir: Path) -> None:
    a = build_aci(tmp_path / "a.aci", version="1")
    b = build_aci(tmp_path / "b.aci", version="2")
    rkt.run_ok("fetch", str(a), str(b))
    # A pod (in any state) that uses a's tree keeps it.
    info = data_dir / "pods/exited-garbage/1234/appsinfo/app"
    info.mkdir(parents=True)
    (info / "treeStoreID").write_text(f"deps-{_id(a)}\n")
    r = rkt.run_ok("image", "gc")
    assert r.out == f'removed treestore "deps-{_id(b)}"\n0 image(s) successfully removed\n'
    assert sorted(os.listdir(data_dir / "cas/trees")) == [f"deps-{_id(a)}"]
    r = rkt.run_ok("image", "gc", "--grace-period=0s")
    assert r.out == (f'successfully removed aci for image: "{_id(b)}" ("example.com/busybox")\n'
                     "1 image(s) successfully removed\n")
    assert [ln.split()[0] for ln in rkt.run_ok("image", "list", "--no-legend", "--full").out.splitlines()] == [_id(a)]
    (data_dir / "pods/exited-garbage/1234").rename(tmp_path / "gone")
    rkt.run_ok("image", "gc", "--grace-period=0s")
    assert os.listdir(data_dir / "cas/trees") == [] and os.listdir(data_dir / "cas/blobs") == []
    assert rkt("image", "gc", "--grace-period=soon").code == 254


def test_cat_manifest(rkt: Any, plain: Path) -> None:
    rkt.run_ok("fetch", str(plain))
    r = rkt.run_ok("image", "cat-manifest", "example.com/busybox")
    assert r.out.startswith('{\n\t"acKind": "ImageManifest",')
    assert json.loads(r.out) == manifest()
    r = rkt.run_ok("image", "cat-manifest", "--pretty-print=false", _id(plain)[:10])
    assert r.out == json.dumps(manifest(), separators=(",", ":")) + "\n"
    r = rkt("image", "cat-manifest", "example.com/none")
    assert r.code == 254 and 'unable to find image "example.com/none"' in r.err


def test_extract_render_export(rkt: Any, tmp_path: Path) -> None:
    src = build_aci(tmp_path / "src.aci", files={"/opt/hello.txt": "hello"}, compression="gz")
    plain = build_aci(tmp_path / "plain.aci", files={"/opt/hello.txt": "hello"})
    img = rkt.run_ok("fetch", str(src)).out.strip()
    ex = tmp_path / "ex"
    rkt.run_ok("image", "extract", img, str(ex))
    assert (ex / "rootfs/opt/hello.txt").read_text() == "hello"
    assert json.loads((ex / "manifest").read_text())["name"] == "example.com/busybox"
    r = rkt("image", "extract", img, str(ex))
    assert r.code == 254 and "already exists" in r.err and "--overwrite" in r.err
    rkt.run_ok("image", "extract", "--overwrite", "--rootfs-only", img, str(ex))
    assert (ex / "opt/hello.txt").read_text() == "hello" and not (ex / "manifest").exists()
    rd = tmp_path / "rd"
    rkt.run_ok("image", "render", "--rootfs-only", img, str(rd))
    assert os.readlink(rd / "bin/sh") == "busybox"
    out = tmp_path / "out.aci"
    rkt.run_ok("image", "export", img, str(out))
    assert out.read_bytes() == plain.read_bytes()
    assert rkt("image", "export", img, str(out)).code == 254
    rkt.run_ok("image", "export", "--overwrite", img, str(out))
    rkt.run_ok("image", "rm", img)
    assert rkt.run_ok("fetch", "--full", str(out)).out.strip() == _id(plain)


@pytest.mark.parametrize(("labels", "message"), [
    ({"os": None}, "missing os label in the image manifest"),
    ({"arch": None}, "missing arch label in the image manifest"),
    ({"arch": "sparc"}, 'bad arch "sparc" for linux (must be one of: [amd64 i386 aarch64 aarch64_be armv6l '
                        "armv7l armv7b ppc64 ppc64le s390x])"),
])
def test_manifest_errors(rkt: Any, tmp_path: Path, labels: dict[str, Any], message: str) -> None:
    path = build_aci(tmp_path / "bad.aci", labels=labels)
    r = rkt("fetch", str(path))
    assert r.code == 254
    assert r.err == f'fetch: image "{path}": {message}\n'
    assert rkt.run_ok("image", "list", "--no-legend").out == ""
