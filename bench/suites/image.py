"""Importing a large image, and starting a second pod from it (overlay: nothing copied)."""

from __future__ import annotations

import os
from pathlib import Path

from bench.bigimage import BIG_NAME, MIB, build_big_aci
from bench.context import Context
from bench.timing import BenchError, Result, Subject, compare, run_once
from bench.workspace import IMAGE_ID, Workspace, remove_tree


def _big(ctx: Context) -> tuple[Path, int]:
    ws = ctx.ws
    path = ws.root / "images" / "big.aci"
    size_file = path.with_suffix(".size")
    if not path.exists():
        ctx.say("import: generating the large image")
        size = build_big_aci(path, ws.image("true", ("/bin/true",)))
        size_file.write_text(str(size))
    return path, int(size_file.read_text())


def _empty(ws: Workspace, d: Path) -> None:
    if d.exists():
        ws.gc(d)
        remove_tree(d)
    os.sync()


def import_image(ctx: Context) -> list[Result]:
    """``import.rkt-fetch`` (and ``import.rkt-prepare``) against ``import.tar``."""
    ws = ctx.ws
    aci, size = _big(ctx)
    fetch_data, prep_data, tar_dest = ws.data_dir("import-fetch"), ws.data_dir("import-prepare"), ws.root / "tar-x"
    flavor = ctx.first_runnable()

    def fresh_tar() -> None:
        _empty(ws, tar_dest)
        tar_dest.mkdir()

    mb = f"{size / MIB:.0f} MiB rootfs"
    subjects = [
        Subject("import.tar", f"tar -x + sha512sum of the same archive ({mb})",
                ["sh", "-c", f'tar -xf "{aci}" -C "{tar_dest}" && sha512sum "{aci}" >/dev/null'], setup=fresh_tar,
                env=ws.env, warmup=False),
        Subject("import.rkt-fetch", f"rkt fetch into a fresh store ({mb})", ws.rkt(fetch_data, "fetch", str(aci)),
                setup=lambda: _empty(ws, fetch_data), env=ws.env, peer="import.tar", warmup=False),
        Subject("import.rkt-prepare", f"rkt prepare from the file, fresh store (fetch + render, {flavor})",
                ws.rkt(prep_data, "prepare", f"--stage1-name={flavor}", str(aci)),
                setup=lambda: _empty(ws, prep_data), env=ws.env, peer="import.tar", warmup=False),
    ]
    ctx.say(f"import: {len(subjects)} subjects x {ctx.reps('heavy')} rounds")
    try:
        return compare("import", subjects, ctx.reps("heavy"))
    finally:
        for d in (fetch_data, prep_data, tar_dest):
            _empty(ws, d)


def _bytes_in(path: Path) -> int:
    """Bytes of regular files under ``path``, not crossing into other mounts (an overlay's merged view)."""
    dev = os.lstat(path).st_dev
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if os.lstat(os.path.join(dirpath, d)).st_dev == dev]
        for f in filenames:
            st = os.lstat(os.path.join(dirpath, f))
            if st.st_dev == dev:
                total += st.st_blocks * 512
    return total


def _newest_pod(data: Path) -> Path:
    pods = [p for st in ("run", "exited-garbage") for p in (data / "pods" / st).glob("*-*-*-*-*")]
    if not pods:
        raise BenchError("rkt run left no pod behind")
    return max(pods, key=lambda p: p.stat().st_mtime_ns)


def second_start(ctx: Context) -> list[Result]:
    """``overlay.first`` / ``overlay.second``: two runs from the large image; bytes each pod wrote."""
    ws = ctx.ws
    aci, size = _big(ctx)
    flavor = ctx.first_runnable()
    data = ws.data_dir("overlay")
    first = Result("overlay.first", "overlay", f"first rkt run from the large image, just fetched ({flavor})")
    second = Result("overlay.second", "overlay", f"second rkt run from the same image ({flavor})",
                    peer="overlay.first")
    written = Result("overlay.pod-bytes", "overlay", "bytes in the second pod's directory (overlay: no copy)",
                     unit="MiB")
    image = Result("overlay.image", "overlay", "size of the large image's rootfs", unit="MiB", samples=[size / MIB])
    ctx.say(f"overlay: {ctx.reps('heavy')} rounds of fetch + two runs")
    try:
        for _ in range(ctx.reps("heavy")):
            _empty(ws, data)
            refs, note = _fetch(ws, data, aci)
            first.note = note
            for res, ref in zip((first, second), refs, strict=True):
                s = Subject(res.key, res.label, ws.rkt(data, "run", f"--stage1-name={flavor}", ref), env=ws.env)
                res.samples.append(run_once(s) * 1000.0)
            pod = _newest_pod(data)
            written.samples.append(_bytes_in(pod) / MIB)
    except BenchError as e:
        for r in (first, second, written):
            r.error = r.error or str(e)
    finally:
        _empty(ws, data)
    return [first, second, written, image]


def _fetch(ws: Workspace, data: Path, aci: Path) -> tuple[tuple[str, str], str]:
    """Put ``aci`` in ``data``'s store; how the first and second runs name it, and a note on fallbacks.

    Without a working ``rkt fetch``, the first run imports the image from its path (its time then
    includes the import) and the second names it as ``name:version`` from the store.
    """
    try:
        out = ws.call(ws.rkt(data, "fetch", str(aci))).stdout
        ids = IMAGE_ID.findall(out)
        if ids:
            return (ids[-1], ids[-1]), ""
        why = "rkt fetch printed no image id"
    except BenchError as e:
        why = str(e)
    return (str(aci), f"{BIG_NAME}:1.0"), f"first run imports the image from its path too ({why})"
