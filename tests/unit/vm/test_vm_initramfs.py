"""The initramfs pieces: cpio archives the kernel (and busybox) can read, module resolution, caching."""

from __future__ import annotations

import gzip
import io
import lzma
import subprocess
from pathlib import Path

import pytest

from rkt_sdk.vm.cpio import CpioWriter
from rkt_sdk.vm.errors import KernelNotFound
from rkt_sdk.vm.initramfs import build_initramfs, find_busybox
from rkt_sdk.vm.kernel import GuestKernel, find_kernel
from rkt_sdk.vm.modules import GUEST_MODULES, module_name, read_module, resolve_modules


def test_cpio_archive_extracts_with_busybox(tmp_path: Path) -> None:
    buf = io.BytesIO()
    w = CpioWriter(buf)
    w.add_dir("etc")
    w.add_file("etc/hello", b"world\n", 0o640)
    w.add_symlink("etc/link", "hello")
    w.close()
    (tmp_path / "a.cpio").write_bytes(buf.getvalue())
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run([str(find_busybox()), "cpio", "-i", "-d", "-F", str(tmp_path / "a.cpio")], cwd=out, check=True,
                   capture_output=True)
    assert (out / "etc/hello").read_text() == "world\n"
    assert (out / "etc/hello").stat().st_mode & 0o777 == 0o640
    assert (out / "etc/link").readlink() == Path("hello")


def _tree(tmp_path: Path) -> Path:
    m = tmp_path / "modules"
    (m / "kernel/a").mkdir(parents=True)
    (m / "modules.dep").write_text("kernel/a/top.ko: kernel/a/mid.ko kernel/a/base.ko.xz\n"
                                   "kernel/a/mid.ko: kernel/a/base.ko.xz\nkernel/a/base.ko.xz:\n")
    builtin = ["builtin-one", *GUEST_MODULES]
    (m / "modules.builtin").write_text("".join(f"kernel/b/{n}.ko\n" for n in builtin))
    (m / "kernel/a/top.ko").write_bytes(b"\x7fELFtop")
    (m / "kernel/a/mid.ko").write_bytes(b"\x7fELFmid")
    (m / "kernel/a/base.ko.xz").write_bytes(lzma.compress(b"\x7fELFbase"))
    return m


def test_modules_in_dependency_order_decompressed(tmp_path: Path) -> None:
    m = _tree(tmp_path)
    files = resolve_modules(m, ["top", "builtin_one", "mid"])
    assert [module_name(f) for f in files] == ["base", "mid", "top"]
    assert read_module(files[0]) == b"\x7fELFbase"


def test_unknown_module_is_named(tmp_path: Path) -> None:
    with pytest.raises(KernelNotFound, match="'nosuch'"):
        resolve_modules(_tree(tmp_path), ["nosuch"])


def test_newest_kernel_is_chosen(tmp_path: Path) -> None:
    boot = tmp_path / "boot"
    boot.mkdir()
    for v in ("5.10.0-9-amd64", "6.1.0-13-amd64", "6.1.0-9-amd64"):
        (boot / f"vmlinuz-{v}").write_bytes(b"k")
    mods = tmp_path / "lib"
    (mods / "6.1.0-13-amd64").mkdir(parents=True)
    (mods / "6.1.0-13-amd64" / "modules.dep").write_text("")
    k = find_kernel(boot_dir=boot, modules_root=mods)
    assert k.version == "6.1.0-13-amd64"
    assert k.modules_dir == mods / "6.1.0-13-amd64"
    with pytest.raises(KernelNotFound, match="no such file"):
        find_kernel(str(tmp_path / "missing"))
    with pytest.raises(KernelNotFound, match="vmlinuz"):
        find_kernel(boot_dir=tmp_path / "empty", modules_root=mods)


def test_initramfs_is_cached_by_content_and_holds_init(tmp_path: Path) -> None:
    m = _tree(tmp_path)
    k = GuestKernel(tmp_path / "vmlinuz", "test", m)
    extra = tmp_path / "extra.txt"
    extra.write_text("extra\n")
    a = build_initramfs(k, tmp_path / "cache", extra_modules=["top"], extra_files=[f"{extra}:/etc/extra"])
    b = build_initramfs(k, tmp_path / "cache", extra_modules=["top"], extra_files=[f"{extra}:/etc/extra"])
    assert a == b
    extra.write_text("changed\n")
    c = build_initramfs(k, tmp_path / "cache", extra_modules=["top"], extra_files=[f"{extra}:/etc/extra"])
    assert c != a
    out = tmp_path / "x"
    out.mkdir()
    (tmp_path / "c.cpio").write_bytes(gzip.decompress(c.read_bytes()))
    subprocess.run([str(find_busybox()), "cpio", "-i", "-d", "-F", str(tmp_path / "c.cpio")], cwd=out, check=True,
                   capture_output=True)
    init = (out / "init").read_text()
    assert 'MODS_extra="base mid top"' in init, "extra modules after their dependencies"
    assert (out / "etc/extra").read_text() == "changed\n"
    assert (out / "bin/sh").readlink() == Path("busybox")
    subprocess.run([str(find_busybox()), "sh", "-n", str(out / "init")], check=True)
