"""Building OCI images with ``umoci`` for registry tests, and a multi-platform index over them.

``layered_image(workdir, layers, tag=...)`` makes an OCI layout with one layer per mapping
(path -> bytes, or ``None`` for a whiteout) and returns ``oci:LAYOUT:TAG`` for ``skopeo copy``.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.aci import BUSYBOX

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


def umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True, text=True, timeout=120)


def new_image(layout: Path, tag: str) -> None:
    if not (layout / "index.json").exists():
        umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:{tag}")


def add_layer(layout: Path, tag: str, files: Mapping[str, bytes | None], scratch: Path) -> None:
    """One new layer holding ``files`` (path in the image -> content; ``None`` adds a whiteout).

    The layer's tar is written here (``umoci insert`` of this umoci leaves its tars unterminated).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    raw = scratch / "layer.tar"
    with tarfile.open(raw, "w", format=tarfile.PAX_FORMAT) as tf:
        dirs: set[str] = set()
        for name, data in files.items():
            parts = name.strip("/").split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    _entry(tf, d, None, tarfile.DIRTYPE)
            leaf = parts[-1] if data is not None else ".wh." + parts[-1]
            _entry(tf, "/".join([*parts[:-1], leaf]), data or b"", tarfile.REGTYPE)
    try:
        umoci("raw", "add-layer", "--no-history", "--image", f"{layout}:{tag}", str(raw))
    finally:
        raw.unlink()


def _entry(tf: tarfile.TarFile, name: str, data: bytes | None, kind: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = 0o755
    ti.mtime = 1_600_000_000
    ti.size = len(data) if data is not None and kind == tarfile.REGTYPE else 0
    tf.addfile(ti, io.BytesIO(data or b"") if ti.size else None)


def configure(layout: Path, tag: str, *, entrypoint: Sequence[str] = (), cmd: Sequence[str] = (),
              env: Sequence[str] = (), workdir: str | None = None, user: str | None = None,
              arch: str | None = None) -> None:
    argv = ["config", "--no-history", "--image", f"{layout}:{tag}"]
    argv += [f"--config.entrypoint={a}" for a in entrypoint] + [f"--config.cmd={a}" for a in cmd]
    argv += [f"--config.env={e}" for e in env]
    if workdir:
        argv.append(f"--config.workingdir={workdir}")
    if user:
        argv.append(f"--config.user={user}")
    if arch:
        argv.append(f"--architecture={arch}")
    umoci(*argv)


def layered_image(workdir: Path, layers: Sequence[Mapping[str, bytes | None]], *, tag: str = "latest",
                  layout: Path | None = None, busybox: bool = False, arch: str | None = None,
                  entrypoint: Sequence[str] = ()) -> str:
    """An OCI image in ``layout`` (default ``workdir/layout``) from ``layers``; ``oci:LAYOUT:TAG``.

    ``busybox`` puts ``/bin/busybox`` and ``/bin/sh`` in a first layer of their own.
    """
    layout = layout or workdir / "layout"
    new_image(layout, tag)
    if busybox:
        add_layer(layout, tag, {"/bin/busybox": BUSYBOX.read_bytes(), "/bin/sh": BUSYBOX.read_bytes()}, workdir)
    for files in layers:
        add_layer(layout, tag, files, workdir)
    if entrypoint or arch:
        configure(layout, tag, entrypoint=entrypoint, arch=arch)
    return f"oci:{layout}:{tag}"


def _descriptor(layout: Path, tag: str) -> dict[str, object]:
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return dict(m)
    raise KeyError(tag)


def platform_index(layout: Path, platforms: Mapping[str, tuple[str, str]], tag: str) -> str:
    """Add an image index named ``tag`` over images ``{image tag: (os, architecture)}``; ``oci:LAYOUT:TAG``."""
    manifests = []
    for image_tag, (os_, arch) in platforms.items():
        d = _descriptor(layout, image_tag)
        manifests.append({"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                          "platform": {"os": os_, "architecture": arch}})
    raw = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": manifests}).encode()
    digest = hashlib.sha256(raw).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(raw)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"].append({"mediaType": INDEX_TYPE, "digest": f"sha256:{digest}", "size": len(raw),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    (layout / "index.json").write_text(json.dumps(index))
    return f"oci:{layout}:{tag}"


def sized_image(layout: Path, *, layers: int = 5, layer_bytes: int = 40 << 20, tag: str = "big",
                base: str | None = None) -> str:
    """An image of ``layers`` layers of ``layer_bytes`` random bytes each (incompressible); ``oci:LAYOUT:TAG``.

    With ``base`` (a tag in the same layout) the new image is that one plus its own layers, so
    the two share the base's layers (for pulls that must fetch only what is new). For benches.
    """
    import os

    scratch = layout.parent / f".{layout.name}-scratch"
    if base is None:
        new_image(layout, tag)
    else:
        umoci("tag", "--image", f"{layout}:{base}", tag)
    try:
        for i in range(layers):
            add_layer(layout, tag, {f"/data/{tag}-{i}.bin": os.urandom(layer_bytes)}, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return f"oci:{layout}:{tag}"
