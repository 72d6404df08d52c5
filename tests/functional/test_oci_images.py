"""OCI images from local sources (``oci:``, ``oci-archive:``, ``docker-archive:``) in the store.

Images are built by ``umoci`` (three layers: a base, a repack that deletes a file and a
directory, a layer with an opaque directory) and copied into archives by ``skopeo``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.functional.conftest import Rkt, wait_for
from tests.support.hostile import reg, store_snapshot
from tests.support.oci import add_layer, busybox_layout, to_archive


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lay = tmp_path_factory.mktemp("oci") / "app"
    busybox_layout(lay, "v1", entrypoint=["/bin/sh", "-c"], cmd=["echo hello from oci"], env={"FOO": "bar"},
                   user="user", workdir="/home/user", ports=["80/tcp", "53/udp"], volumes=["/data"],
                   labels={"org.example.k": "v"}, stop_signal="SIGUSR1")
    add_layer(lay, "v1", [reg("etc/fourth", "4\n")], new_tag="v2")
    return lay


def _fetch(rkt: Rkt, ref: str, *extra: str) -> str:
    r = rkt.run_ok("fetch", "--full", *extra, ref)
    return r.out.strip()


def test_fetch_layout_archive_and_docker_archive(rkt: Rkt, layout: Path, tmp_path: Path) -> None:
    a = _fetch(rkt, f"oci:{layout}:v1")
    assert a.startswith("sha512-") and len(a) == 7 + 128
    arch = to_archive(layout, "v1", tmp_path / "app.tar")
    assert _fetch(rkt, f"oci-archive:{arch}:v1") == a  # same manifest, same image
    d = _fetch(rkt, "docker-archive:" + str(to_archive(layout, "v1", tmp_path / "d.tar", "docker-archive")))
    assert d != a
    listing = rkt.run_ok("image", "list", "--no-legend").out
    assert "app:v1" in listing and "rkt.test/app:v1" in listing
    short = rkt.run_ok("fetch", f"oci:{layout}:v1").out.strip()
    assert short == a[:7 + 32]


def test_layers_render_whiteouts_in_overlay_form(rkt: Rkt, layout: Path, data_dir: Path, tmp_path: Path) -> None:
    image_id = _fetch(rkt, f"oci:{layout}:v1")
    trees = data_dir / "cas" / "trees"
    layers = (trees / f"deps-{image_id}" / "layers").read_text().split()
    assert len(layers) == 3
    second = trees / ("layer-" + layers[1].replace(":", "-")) / "rootfs"
    st = os.lstat(second / "etc/base-only")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert stat.S_ISCHR(os.lstat(second / "opt/gone").st_mode)
    third = trees / ("layer-" + layers[2].replace(":", "-")) / "rootfs"
    assert os.getxattr(third / "data", "trusted.overlay.opaque") == b"y"
    assert not (third / "data/.wh..wh..opq").exists()
    dest = tmp_path / "flat"
    rkt.run_ok("image", "extract", "--rootfs-only", image_id, str(dest))
    assert sorted(os.listdir(dest / "etc")) == ["group", "passwd", "second", "third"]
    assert os.listdir(dest / "opt") == ["keep"]
    assert os.listdir(dest / "data") == ["new"]
    assert (dest / "bin/busybox").is_file() and os.readlink(dest / "bin/sh") == "busybox"
    assert os.stat(dest / "home/user").st_uid == 1000


def test_cat_manifest_maps_the_config(rkt: Rkt, layout: Path) -> None:
    image_id = _fetch(rkt, f"oci:{layout}:v1")
    m = json.loads(rkt.run_ok("image", "cat-manifest", image_id).out)
    app = m["app"]
    assert m["name"] == "app"
    assert {"name": "version", "value": "v1"} in m["labels"]
    assert app["exec"] == ["/bin/sh", "-c", "echo hello from oci"]
    assert (app["user"], app["group"]) == ("user", "1000")
    assert app["workingDirectory"] == "/home/user"
    assert {"name": "FOO", "value": "bar"} in app["environment"]
    assert sorted(p["name"] for p in app["ports"]) == ["53-udp", "80-tcp"]
    assert app["mountPoints"] == [{"name": "volume-data", "path": "/data", "readOnly": False}]
    ann = {a["name"]: a["value"] for a in m["annotations"]}
    assert ann["org.example.k"] == "v"
    assert ann["appc.io/docker/stopsignal"] == "SIGUSR1"
    assert json.loads(ann["appc.io/docker/entrypoint"]) == ["/bin/sh", "-c"]


def test_shared_layers_stored_and_copied_once(rkt: Rkt, layout: Path, data_dir: Path) -> None:
    r1 = rkt.run_ok("fetch", f"oci:{layout}:v1")
    assert r1.err.count("Downloading") == 3
    r2 = rkt.run_ok("fetch", f"oci:{layout}:v2")
    assert r2.err.count("Downloading") == 1, r2.err
    blobs = os.listdir(data_dir / "cas" / "blobs")
    layer_trees = [t for t in os.listdir(data_dir / "cas" / "trees") if t.startswith("layer-")]
    assert len(layer_trees) == 4
    assert len([b for b in blobs if b.startswith("sha256-")]) == 4 + 2  # 4 layers, 2 configs
    assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 2


def test_digest_mismatch_stores_nothing(rkt: Rkt, layout: Path, tmp_path: Path, data_dir: Path, busybox: str) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(layout, bad)
    manifest = json.loads((bad / "blobs/sha256" / _manifest_digest(bad, "v1")).read_bytes())
    layer = bad / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    raw = bytearray(layer.read_bytes())
    raw[-1] ^= 0xFF
    layer.write_bytes(bytes(raw))
    rkt.run_ok("fetch", busybox)
    before = store_snapshot(data_dir / "cas")
    r = rkt("fetch", f"oci:{bad}:v1")
    assert r.code == 254, str(r)
    lines = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(lines) == 1 and "does not match its digest" in lines[0], r.err
    assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 1
    assert store_snapshot(data_dir / "cas") == before


def _manifest_digest(lay: Path, tag: str) -> str:
    index = json.loads((lay / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return str(m["digest"]).split(":")[1]
    raise AssertionError(tag)


def test_pull_policy_and_store_flags(rkt: Rkt, layout: Path) -> None:
    r = rkt("fetch", "--pull-policy=never", f"oci:{layout}:v1")
    assert r.code == 254 and "local store" in r.err
    r = rkt("fetch", "--store-only", f"oci:{layout}:v1")
    assert r.code == 254
    image_id = _fetch(rkt, f"oci:{layout}:v1")
    assert _fetch(rkt, f"oci:{layout}:v1", "--pull-policy=never") == image_id
    assert _fetch(rkt, f"oci:{layout}:v1", "--no-store") == image_id
    r = rkt("fetch", "--store-only", "--no-store", f"oci:{layout}:v1")
    assert r.code == 254 and "both" in r.err


def test_unknown_tag_and_bad_sources(rkt: Rkt, layout: Path, tmp_path: Path) -> None:
    r = rkt("fetch", f"oci:{layout}:nope")
    assert r.code == 254 and 'no image tagged "nope"' in r.err and "v1" in r.err and len(r.err.splitlines()) == 1
    r = rkt("fetch", f"oci:{tmp_path}/missing")
    assert r.code == 254 and "is not a directory" in r.err
    (tmp_path / "junk.tar").write_bytes(b"\x1f\x8b" + b"0" * 100)
    r = rkt("fetch", f"oci-archive:{tmp_path}/junk.tar")
    assert r.code == 254 and "compressed" in r.err
    r = rkt("fetch", "docker://Bad_Name")
    assert r.code == 254 and "bad repository name" in r.err


def test_index_picks_this_host_or_lists_what_it_offers(rkt: Rkt, layout: Path, tmp_path: Path) -> None:
    lay = tmp_path / "multi"
    shutil.copytree(layout, lay)
    digest = _manifest_digest(lay, "v1")
    size = (lay / "blobs/sha256" / digest).stat().st_size

    def index_of(platforms: list[tuple[str, str]], tag: str) -> None:
        import hashlib

        doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "digest": f"sha256:{digest}", "size": size,
                              "platform": {"os": o, "architecture": a}} for o, a in platforms]}
        raw = json.dumps(doc).encode()
        h = hashlib.sha256(raw).hexdigest()
        (lay / "blobs/sha256" / h).write_bytes(raw)
        index = json.loads((lay / "index.json").read_text())
        index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{h}",
                                   "size": len(raw), "annotations": {"org.opencontainers.image.ref.name": tag}})
        (lay / "index.json").write_text(json.dumps(index))

    index_of([("linux", "arm64"), ("linux", "s390x")], "foreign")
    index_of([("linux", "arm64"), ("linux", "amd64")], "multi")
    r = rkt("fetch", f"oci:{lay}:foreign")
    assert r.code == 254 and "linux/arm64, linux/s390x" in r.err and len(r.err.splitlines()) == 1, str(r)
    assert _fetch(rkt, f"oci:{lay}:multi") == _fetch(rkt, f"oci:{layout}:v1")


def test_rm_gc_and_rerender(rkt: Rkt, layout: Path, data_dir: Path, tmp_path: Path) -> None:
    image_id = _fetch(rkt, f"oci:{layout}:v1")
    rkt.run_ok("image", "gc", "--grace-period=24h")
    trees = data_dir / "cas" / "trees"
    assert not list(trees.iterdir())  # no pod uses them: trees removed, blobs kept
    rkt.run_ok("image", "render", "--rootfs-only", image_id, str(tmp_path / "r"))
    assert (tmp_path / "r/etc/third").is_file()
    rkt.run_ok("image", "export", image_id, str(tmp_path / "x.aci"))
    out = subprocess.run(["tar", "tf", str(tmp_path / "x.aci")], capture_output=True, text=True,
                         check=True).stdout
    assert "manifest" in out.splitlines() and "rootfs/etc/third" in out.splitlines()
    rkt.run_ok("image", "rm", image_id)
    rkt.run_ok("image", "gc", "--grace-period=0s")
    assert os.listdir(data_dir / "cas" / "blobs") == []


@pytest.mark.slow
def test_sigkill_mid_pull_leaves_nothing_visible(rkt: Rkt, tmp_path: Path, data_dir: Path) -> None:
    lay = tmp_path / "big"
    busybox_layout(lay, "v1")
    big = tmp_path / "bigfile"
    with open(big, "wb") as f:
        for _ in range(48):
            f.write(os.urandom(1 << 20))
    add_layer(lay, "v1", [reg("big/blob", big.read_bytes())])
    p = rkt.popen("fetch", f"oci:{lay}:v1")
    assert p.stderr is not None
    wait_for(lambda: (data_dir / "cas" / "tmp").is_dir() and any((data_dir / "cas" / "tmp").iterdir()),
             timeout=20, what="a pull under way")
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert rkt.run_ok("image", "list", "--no-legend").out == ""
    image_id = _fetch(rkt, f"oci:{lay}:v1")
    assert rkt.run_ok("image", "list", "--no-legend").out.count("big:v1") == 1
    assert not [d for d in (data_dir / "cas" / "tmp").iterdir()]
    dest = tmp_path / "x"
    rkt.run_ok("image", "extract", "--rootfs-only", image_id, str(dest))
    assert (dest / "big/blob").stat().st_size == 48 << 20


def test_run_of_a_stored_image_imports_no_registry_client(rkt: Rkt, layout: Path) -> None:
    import re
    import sys

    from tests.functional.conftest import RKT

    image_id = _fetch(rkt, f"oci:{layout}:v1")
    argv = [sys.executable, "-X", "importtime", str(RKT), f"--dir={rkt.data}", "run", "--stage1-name=fly", image_id,
            "--exec=/bin/true"]
    for _ in range(2):  # the first run validates the flavor and remembers it
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
    imported = set(re.findall(r"^import time:.*\|\s*(\S+)$", p.stderr, re.M))
    assert "rkt_stage1_fly.launch" in imported
    assert not {m for m in imported if m.startswith(("urllib3", "rich", "http.client", "rkt.images", "sqlite3"))}


@pytest.mark.slow
def test_progress_on_a_terminal(rkt: Rkt, tmp_path: Path) -> None:
    """On a terminal, a pull that lasts over a second shows a live display (rich) with sizes and speed."""
    import pty

    lay = tmp_path / "big"
    busybox_layout(lay, "v1")
    add_layer(lay, "v1", [reg(f"big/{i}", os.urandom(16 << 20)) for i in range(8)])
    master, slave = pty.openpty()
    # A local pull may finish within the usual one-second delay; show the display at once.
    p = subprocess.Popen(rkt.argv(("fetch", f"oci:{lay}:v1")), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=slave, text=True, env={**os.environ, "RKT_PROGRESS_DELAY": "0"})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    assert p.wait(timeout=120) == 0
    os.close(master)
    text = shown.decode(errors="replace")
    assert "MB" in text and "/s" in text, text[-2000:]
    assert "Downloading" not in text  # the plain lines are for logs, not terminals


def test_layer_not_matching_the_configs_diff_id_stores_nothing(rkt: Rkt, layout: Path, tmp_path: Path,
                                                               data_dir: Path, busybox: str) -> None:
    import hashlib

    bad = tmp_path / "bad"
    shutil.copytree(layout, bad)
    blobs = bad / "blobs/sha256"

    def put(doc: dict[str, object]) -> tuple[str, int]:
        raw = json.dumps(doc).encode()
        h = hashlib.sha256(raw).hexdigest()
        (blobs / h).write_bytes(raw)
        return f"sha256:{h}", len(raw)

    manifest = json.loads((blobs / _manifest_digest(bad, "v1")).read_bytes())
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    config["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
    manifest["config"]["digest"], manifest["config"]["size"] = put(config)
    digest, size = put(manifest)
    index = json.loads((bad / "index.json").read_text())
    index["manifests"] = [{**index["manifests"][0], "digest": digest, "size": size}]
    (bad / "index.json").write_text(json.dumps(index))
    rkt.run_ok("fetch", busybox)
    before = store_snapshot(data_dir / "cas")
    r = rkt("fetch", f"oci:{bad}:v1")
    assert r.code == 254, str(r)
    lines = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(lines) == 1 and "is not the image config's diff id" in lines[0], r.err
    assert store_snapshot(data_dir / "cas") == before
