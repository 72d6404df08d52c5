"""Pulling a multi-layer OCI image, against ``skopeo copy`` + ``umoci unpack`` of the same image.

The image: the busybox base of the tests (three small layers) and three layers of random data
(about 240 MiB, which does not compress), made by ``umoci`` and packed by ``skopeo`` into an
``oci-archive``. Measured:

- ``pull.rkt``: ``rkt prepare`` from the archive into a fresh store (pull, render every layer,
  make the pod: the first pod can start) against ``pull.skopeo-umoci``: ``skopeo copy`` of the
  archive to an OCI layout plus ``umoci unpack`` of it;
- ``pull.registry-rkt`` against ``pull.registry-skopeo-umoci``: the same, the image served by
  Debian's ``docker-registry`` on loopback (plain HTTP) and named ``docker://``;
- ``pull.second-bytes``: blob bytes a second image sharing the first's layers copies into the
  store (it adds one small layer; its config and manifest are a few hundred bytes), against
  ``pull.second-own``, the size of that layer (the rendered tree of the layer is not counted);
- ``pull.peak-rss``, ``pull.registry-peak-rss``: the peak memory of a pull (GNU ``time``), from
  the archive and from the registry, whatever the layer sizes;
- ``pull.run-imports``: modules of the registry client or the progress display that ``rkt run``
  of the stored image imports (none).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.bigimage import MIB
from bench.context import Context
from bench.suites.image import _empty
from bench.suites.memory import _max_rss
from bench.timing import BenchError, Result, Subject, compare
from bench.workspace import IMAGE_ID, RKT

if TYPE_CHECKING:
    from tests.support.hostile import Entry

BIG_LAYERS = 3
FILES_PER_LAYER = 20
FILE_SIZE = 4 * MIB
#: Modules ``rkt run`` of a stored image must not import.
REGISTRY_MODULES = ("urllib3", "rich", "rkt.images.docker", "rkt.images.registry", "rkt.images.pull", "http.client")


def _layer_entries(n: int) -> list[Entry]:
    from tests.support.hostile import dir_, reg

    entries = [dir_(f"data{n}")]
    for i in range(FILES_PER_LAYER):
        entries.append(reg(f"data{n}/blob-{i:03d}", os.urandom(FILE_SIZE)))
    return entries


def _images(ctx: Context) -> tuple[Path, Path, int]:
    """The layout (tags v1 and v2) and its oci-archive (tag v1); bytes of v2's own layer."""
    from tests.support.oci import add_layer, busybox_layout, skopeo_copy

    root = ctx.ws.root / "images" / "pull"
    layout, archive = root / "layout", root / "image.tar"
    own = root / "own.size"
    if not archive.exists():
        ctx.say("pull: generating the multi-layer image")
        root.mkdir(parents=True, exist_ok=True)
        busybox_layout(layout, "v1", cmd=["/bin/true"])
        for n in range(BIG_LAYERS):
            add_layer(layout, "v1", _layer_entries(n))
        add_layer(layout, "v1", _layer_entries(99)[:2], new_tag="v2")
        skopeo_copy(f"oci:{layout}:v1", f"oci-archive:{archive}:v1")
        manifest = _manifest(layout, "v2")
        own.write_text(str(manifest["layers"][-1]["size"]))
    return layout, archive, int(own.read_text())


def _manifest(layout: Path, tag: str) -> dict[str, Any]:
    import json

    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            doc = json.loads((layout / "blobs" / "sha256" / m["digest"].split(":")[1]).read_text())
            return dict(doc)
    raise BenchError(f"pull: no tag {tag} in the generated layout")


def _du(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
    return total


def _timed(ctx: Context, archive: Path) -> list[Result]:
    ws = ctx.ws
    data, dest = ws.data_dir("pull-rkt"), ws.root / "pull-peer"
    flavor = ctx.first_runnable()

    def fresh_peer() -> None:
        _empty(ws, dest)
        dest.mkdir()

    peer = (f'skopeo --insecure-policy copy -q "oci-archive:{archive}:v1" "oci:{dest}/layout:v1" && '
            f'umoci unpack --image "{dest}/layout:v1" "{dest}/bundle" >/dev/null')
    subjects = [
        Subject("pull.skopeo-umoci", "skopeo copy oci-archive -> oci: + umoci unpack", ["sh", "-c", peer],
                setup=fresh_peer, env=ws.env, warmup=False),
        Subject("pull.rkt", f"rkt prepare from the oci-archive into a fresh store ({flavor})",
                ws.rkt(data, "prepare", f"--stage1-name={flavor}", f"oci-archive:{archive}:v1"),
                setup=lambda: _empty(ws, data), env=ws.env, peer="pull.skopeo-umoci", warmup=False),
    ]
    try:
        return compare("pull", subjects, ctx.reps("heavy"))
    finally:
        _empty(ws, data)
        _empty(ws, dest)


def _registry(ctx: Context, layout: Path) -> list[Result]:
    """``pull.registry-rkt`` against ``pull.registry-skopeo-umoci``: the same image served by a loopback registry."""
    from tests.support.registry import running_registry

    ws = ctx.ws
    data, dest = ws.data_dir("pull-registry-rkt"), ws.root / "pull-registry-peer"
    flavor = ctx.first_runnable()

    def fresh_peer() -> None:
        _empty(ws, dest)
        dest.mkdir()

    with running_registry(ws.root / "pull-registry") as reg:
        reg.push(f"oci:{layout}:v1", "bench/big:v1")
        ref = reg.ref("bench/big:v1")
        peer = (f'skopeo --insecure-policy copy -q --src-tls-verify=false "{ref}" "oci:{dest}/layout:v1" && '
                f'umoci unpack --image "{dest}/layout:v1" "{dest}/bundle" >/dev/null')
        rkt = [a if a != "--insecure-options=image" else "--insecure-options=image,http"
               for a in ws.rkt(data, "prepare", f"--stage1-name={flavor}", ref)]
        subjects = [
            Subject("pull.registry-skopeo-umoci", "skopeo copy docker:// (loopback registry) -> oci: + umoci unpack",
                    ["sh", "-c", peer], setup=fresh_peer, env=reg.env, warmup=False),
            Subject("pull.registry-rkt", f"rkt prepare docker:// from the loopback registry, fresh store ({flavor})",
                    rkt, setup=lambda: _empty(ws, data), env=reg.env, peer="pull.registry-skopeo-umoci", warmup=False),
        ]
        rss = Result("pull.registry-peak-rss", "pull", "peak memory of rkt fetch docker:// (loopback registry)",
                     unit="MiB")
        try:
            results = compare("pull", subjects, ctx.reps("heavy"))
            _empty(ws, data)
            fetch = [a if a != "prepare" else "fetch" for a in rkt if not a.startswith("--stage1-name=")]
            rss.samples.append(_max_rss(fetch, reg.env))
        except BenchError as e:
            rss.error = str(e)
        finally:
            _empty(ws, data)
            _empty(ws, dest)
        return [*results, rss]


def _second_and_memory(ctx: Context, layout: Path, archive: Path, own: int) -> list[Result]:
    ws = ctx.ws
    data = ws.data_dir("pull-second")
    second = Result("pull.second-bytes", "pull", "blob bytes a second image sharing the base copies into the store",
                    unit="MiB", peer="pull.second-own")
    own_r = Result("pull.second-own", "pull", "size of the second image's own layer", unit="MiB",
                   samples=[own / MIB])
    rss = Result("pull.peak-rss", "pull", "peak memory of rkt fetch of the oci-archive", unit="MiB")
    imports = Result("pull.run-imports", "pull",
                     f"registry/progress modules rkt run imports ({', '.join(REGISTRY_MODULES)})", unit="modules")
    try:
        _empty(ws, data)
        rss.samples.append(_max_rss(ws.rkt(data, "fetch", f"oci-archive:{archive}:v1"), ws.env))
        before = _du(data / "cas" / "blobs")
        ws.call(ws.rkt(data, "fetch", f"oci:{layout}:v2"))
        second.samples.append((_du(data / "cas" / "blobs") - before) / MIB)
        out = ws.call(ws.rkt(data, "fetch", "--full", f"oci-archive:{archive}:v1")).stdout  # stored: no copy
        image_id = IMAGE_ID.findall(out)[-1]
        flavor = ctx.first_runnable()
        argv = [sys.executable, "-X", "importtime", str(RKT), *ws.rkt(data, "run", f"--stage1-name={flavor}",
                                                                      image_id)[1:]]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=ws.env, timeout=120)
        if p.returncode != 0:
            raise BenchError(f"rkt run of the pulled image: exit status {p.returncode}")
        mods = set(re.findall(r"^import time:.*\|\s*(\S+)$", p.stderr, re.M))
        bad = sorted(m for m in mods if m.startswith(REGISTRY_MODULES))
        imports.samples.append(float(len(bad)))
        imports.note = ", ".join(bad)
    except BenchError as e:
        for r in (second, rss, imports):
            r.error = r.error or str(e)
    finally:
        _empty(ws, data)
    return [second, own_r, rss, imports]


def run(ctx: Context) -> list[Result]:
    """Every ``pull.*`` result (see the module doc)."""
    try:
        layout, archive, own = _images(ctx)
    except (BenchError, subprocess.CalledProcessError, OSError) as e:
        why = f"pull: cannot build the image: {e}"
        return [Result(k, "pull", k, error=why) for k in ("pull.rkt", "pull.skopeo-umoci")]
    ctx.say(f"pull: 2 subjects x {ctx.reps('heavy')} rounds, then a second image, peak memory, imports of run")
    try:
        served = _registry(ctx, layout)
    except (BenchError, subprocess.CalledProcessError, OSError, RuntimeError) as e:
        served = [Result(k, "pull", k, error=f"pull: loopback registry: {e}")
                  for k in ("pull.registry-rkt", "pull.registry-skopeo-umoci")]
    return _timed(ctx, archive) + served + _second_and_memory(ctx, layout, archive, own)
