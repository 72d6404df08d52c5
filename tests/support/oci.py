"""Build OCI images for tests with ``umoci``, and turn them into archives with ``skopeo``.

:func:`busybox_layout` makes a layout holding a busybox image of several layers: the base
(busybox, applets, /etc), a layer made by ``umoci repack`` that deletes files (whiteouts) and
adds some, and a hand-made layer (``umoci raw add-layer``) with an opaque directory; then the
image config is set with ``umoci config``. :func:`add_layer` appends any tar (hostile ones
included); :func:`to_archive` copies a layout to an ``oci-archive`` or ``docker-archive``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.aci import APPLETS, BUSYBOX, GROUP, PASSWD
from tests.support.hostile import Entry, dir_, reg, tar_bytes


def umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True)


def skopeo_copy(src: str, dst: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", src, dst], check=True, capture_output=True)


def _populate_base(rootfs: Path) -> None:
    for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "var", "run", "home/user", "opt/keep",
              "opt/gone", "data"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    os.chmod(rootfs / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, rootfs / "bin/busybox")
    for a in APPLETS:
        os.symlink("busybox", rootfs / "bin" / a)
    (rootfs / "etc/passwd").write_text(PASSWD)
    (rootfs / "etc/group").write_text(GROUP)
    (rootfs / "etc/base-only").write_text("base\n")
    (rootfs / "opt/keep/a").write_text("keep\n")
    (rootfs / "opt/gone/b").write_text("gone\n")
    (rootfs / "data/old").write_text("old\n")
    os.chown(rootfs / "home/user", 1000, 1000)


def add_layer(layout: Path, tag: str, entries: list[Entry], new_tag: str | None = None) -> None:
    """Append a layer made of ``entries`` (written verbatim) to ``layout:tag``."""
    raw = layout.parent / f".{layout.name}-layer.tar"
    raw.write_bytes(tar_bytes(entries))
    try:
        umoci("raw", "add-layer", "--image", f"{layout}:{tag}", *(("--tag", new_tag) if new_tag else ()), str(raw))
    finally:
        raw.unlink()


def busybox_layout(layout: Path, tag: str = "v1", *, entrypoint: Sequence[str] = (),
                   cmd: Sequence[str] = ("/bin/sh", "-c", "echo hello"), env: Mapping[str, str] | None = None,
                   user: str = "", workdir: str = "", ports: Sequence[str] = (), volumes: Sequence[str] = (),
                   labels: Mapping[str, str] | None = None, stop_signal: str = "") -> Path:
    """A layout at ``layout`` with a 3-layer busybox image tagged ``tag``; returns ``layout``."""
    bundle = layout.parent / f".{layout.name}-bundle"
    if not (layout / "index.json").exists():
        umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:{tag}")
    umoci("unpack", "--image", f"{layout}:{tag}", str(bundle))
    try:
        _populate_base(bundle / "rootfs")
        umoci("repack", "--refresh-bundle", "--image", f"{layout}:{tag}", str(bundle))
        rootfs = bundle / "rootfs"
        (rootfs / "etc/base-only").unlink()  # a whiteout in the next layer
        shutil.rmtree(rootfs / "opt/gone")  # a whiteout of a directory
        (rootfs / "etc/second").write_text("second\n")
        umoci("repack", "--image", f"{layout}:{tag}", str(bundle))
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
    add_layer(layout, tag, [dir_("data"), reg("data/.wh..wh..opq", b""), reg("data/new", "new\n"),
                            reg("etc/third", "third\n")])
    args = ["config", "--image", f"{layout}:{tag}"]
    for e in entrypoint:
        args += ["--config.entrypoint", e]
    for c in cmd:
        args += ["--config.cmd", c]
    for k, v in (env or {}).items():
        args += ["--config.env", f"{k}={v}"]
    for p in ports:
        args += ["--config.exposedports", p]
    for v in volumes:
        args += ["--config.volume", v]
    for k, v in (labels or {}).items():
        args += ["--config.label", f"{k}={v}"]
    for flag, value in (("--config.user", user), ("--config.workingdir", workdir),
                        ("--config.stopsignal", stop_signal)):
        if value:
            args += [flag, value]
    umoci(*args)
    return layout


def to_archive(layout: Path, tag: str, dest: Path, kind: str = "oci-archive") -> Path:
    """Copy ``layout:tag`` to ``dest`` as an ``oci-archive`` or ``docker-archive`` (tagged ``rkt.test/NAME:TAG``)."""
    target = f"{kind}:{dest}" + (f":rkt.test/{layout.name}:{tag}" if kind == "docker-archive" else f":{tag}")
    skopeo_copy(f"oci:{layout}:{tag}", target)
    return dest


def tar_of(entries: list[Entry]) -> io.BytesIO:
    return io.BytesIO(tar_bytes(entries))


__all__ = ["add_layer", "busybox_layout", "skopeo_copy", "tar_of", "tarfile", "to_archive", "umoci"]
