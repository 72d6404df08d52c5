"""Build the guest's initramfs, cached by the hash of everything that goes into it.

Contents: ``busybox`` (static; its applets as symlinks under ``/bin``), the kernel modules
the guest needs (decompressed, under ``/lib/modules/<name>.ko``), the rendered ``/init``,
and any extra host files the per-host settings add. The archive is a gzip-compressed
"newc" cpio written in Python, so no archiver needs to be installed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from rkt_sdk.poddir import write_atomic
from rkt_sdk.vm.cpio import CpioWriter
from rkt_sdk.vm.errors import VMError
from rkt_sdk.vm.kernel import GuestKernel
from rkt_sdk.vm.modules import GUEST_MODULE_GROUPS, module_name, read_module, resolve_modules

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
_DIRS = ("bin", "dev", "proc", "sys", "run", "tmp", "lib", "lib/modules", "etc", "rkt", "apps", "vol")


def find_busybox() -> Path:
    """A statically linked busybox of this host.

    :raises VMError: none found (the guest needs one: install busybox-static).
    """
    found = shutil.which("busybox")
    for cand in ([found] if found else []) + list(BUSYBOX_CANDIDATES):
        p = Path(cand)
        if p.is_file():
            data = p.read_bytes()[:4096]
            if b"/lib64/ld-linux" not in data and b"/lib/ld-linux" not in data:
                return p
    raise VMError("no static busybox on this host (the VM guest needs one: install busybox-static)")


def _applets(busybox: Path) -> list[str]:
    try:
        out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise VMError(f"{busybox}: cannot list its applets: {e}") from None
    return [a for a in out.split() if a and "/" not in a and a != "busybox"]


def _extra(spec: str) -> tuple[Path, str]:
    src, _, dst = spec.partition(":")
    dst = dst or src
    if not src.startswith("/") or not dst.startswith("/"):
        raise VMError(f"initramfs extra file {spec!r}: want /host/path[:/guest/path]")
    if not Path(src).is_file():
        raise VMError(f"initramfs extra file {src}: no such file")
    return Path(src), dst.lstrip("/")


def build_initramfs(kernel: GuestKernel, cache_dir: Path, *, extra_modules: Sequence[str] = (),
                    extra_files: Sequence[str] = ()) -> Path:
    """The initramfs for ``kernel``: built once, then found again in ``cache_dir`` by content.

    :param extra_modules: module names loaded after the standard ones (per-host setting).
    :param extra_files: ``/host/path[:/guest/path]`` files added to the image (per-host setting).
    :returns: path of the cached ``initramfs-<hash>.cpio.gz``.
    :raises VMError: no busybox, no module tree for the kernel, or a missing extra file.
    """
    from rkt_sdk.vm.guest import render_init

    if kernel.modules_dir is None:
        raise VMError(f"guest kernel {kernel.path}: no module tree /lib/modules/{kernel.version or '<version>'} "
                      "(set \"modules_dir\" in the flavor's stage1 config)")
    busybox = find_busybox()
    groups: list[tuple[str, list[str]]] = []
    modules: list[Path] = []
    for group, wanted in (*GUEST_MODULE_GROUPS, ("extra", tuple(extra_modules))):
        files = resolve_modules(kernel.modules_dir, wanted)
        groups.append((group, [module_name(m) for m in files]))
        modules += [m for m in files if m not in modules]
    names = [module_name(m) for m in modules]
    init = render_init(groups).encode()
    extras = [_extra(s) for s in extra_files]
    h = hashlib.sha256()
    for part in (init, busybox.read_bytes(), *(m.read_bytes() for m in modules)):
        h.update(hashlib.sha256(part).digest())
    for src, dst in extras:
        h.update(dst.encode() + b"\0" + hashlib.sha256(src.read_bytes()).digest())
    out = cache_dir / f"initramfs-{h.hexdigest()[:32]}.cpio.gz"
    if out.is_file():
        return out
    buf = io.BytesIO()
    w = CpioWriter(buf)
    for d in _DIRS:
        w.add_dir(d)
    w.add_chardev("dev/console", 5, 1)
    w.add_chardev("dev/null", 1, 3, 0o666)
    w.add_file("bin/busybox", busybox.read_bytes(), 0o755)
    w.add_symlink("bin/sh", "busybox")
    for a in _applets(busybox):
        if a != "sh":
            w.add_symlink(f"bin/{a}", "busybox")
    for m, name in zip(modules, names, strict=True):
        w.add_file(f"lib/modules/{name}.ko", read_module(m))
    made = set(_DIRS)
    for src, dst in extras:
        parts = dst.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in made:
                w.add_dir(d)
                made.add(d)
        w.add_file(dst, src.read_bytes(), os.stat(src).st_mode & 0o7777)
    w.add_file("init", init, 0o755)
    w.close()
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out, gzip.compress(buf.getvalue(), 6, mtime=0))
    return out
