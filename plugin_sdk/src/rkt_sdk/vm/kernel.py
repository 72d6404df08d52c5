"""Find the guest kernel and its modules, and unpack it for a direct (PVH) boot.

By default the guest runs the newest kernel installed under ``/boot`` (``vmlinuz-<version>``)
with the modules from ``/lib/modules/<version>``. A compressed ``bzImage`` spends most of a TCG
boot decompressing itself; when the kernel carries a PVH entry note, :func:`unpacked_kernel`
extracts its ELF image once (cached by content) so QEMU can start it directly.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from rkt_sdk.poddir import write_atomic
from rkt_sdk.record import Record
from rkt_sdk.vm.errors import KernelNotFound

BOOT_DIR = Path("/boot")
MODULES_ROOT = Path("/lib/modules")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZ_MAGIC = b"\x1f\x8b\x08\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PVH_NOTE = 18  # XEN_ELFNOTE_PHYS32_ENTRY


class GuestKernel(Record):
    """A kernel image and the module tree that matches it.

    :ivar path: the kernel image as installed (``bzImage`` or ELF ``vmlinux``).
    :ivar version: its release string (``6.1.0-13-amd64``), or ``""`` when unknown.
    :ivar modules_dir: ``/lib/modules/<version>``, or ``None`` if the host has none for it.
    """

    path: Path
    version: str
    modules_dir: Path | None


def _version_key(version: str) -> list[tuple[int, str]]:
    return [(int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"[.\-+~]", version)]


def find_kernel(kernel: str = "", modules_dir: str = "", boot_dir: Path = BOOT_DIR,
                modules_root: Path = MODULES_ROOT) -> GuestKernel:
    """The kernel the settings name, or the newest ``vmlinuz-*`` under ``boot_dir``.

    :param kernel: path of a kernel image from the per-host settings, ``""`` for the default.
    :param modules_dir: path of its module tree, ``""`` to use ``modules_root/<version>``.
    :raises KernelNotFound: no kernel there, naming where it looked.
    """
    if kernel:
        path = Path(kernel)
        if not path.is_file():
            raise KernelNotFound(f"guest kernel {kernel}: no such file (setting \"kernel\")")
        m = re.match(r"^(?:vmlinuz|vmlinux|bzImage)-(.+)$", path.name)
        version = m.group(1) if m else ""
    else:
        candidates = sorted((p for p in boot_dir.glob("vmlinuz-*") if p.is_file()),
                            key=lambda p: _version_key(p.name[len("vmlinuz-"):]))
        if not candidates:
            raise KernelNotFound(f"no guest kernel: no {boot_dir}/vmlinuz-* (install a linux-image package "
                                 "or set \"kernel\" in the flavor's stage1 config)")
        path = candidates[-1]
        version = path.name[len("vmlinuz-"):]
    mdir: Path | None
    if modules_dir:
        mdir = Path(modules_dir)
        if not (mdir / "modules.dep").is_file():
            raise KernelNotFound(f"kernel modules {modules_dir}: no modules.dep there (setting \"modules_dir\")")
    else:
        cand = modules_root / version if version else None
        mdir = cand if cand is not None and (cand / "modules.dep").is_file() else None
    return GuestKernel(path, version, mdir)


def _file_key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode()).hexdigest()[:24]


def _has_pvh_note(elf: bytes) -> bool:
    """Whether an ELF64 image carries the Xen PVH entry note."""
    import struct

    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _flags, p_offset = struct.unpack_from("<IIQ", elf, phoff + i * phentsize)
        p_filesz, = struct.unpack_from("<Q", elf, phoff + i * phentsize + 0x20)
        if p_type != 4:  # PT_NOTE
            continue
        off, end = p_offset, p_offset + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, off)
            name = elf[off + 12:off + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == _PVH_NOTE:
                return True
            off += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


def _decompress_payload(image: bytes) -> bytes | None:
    """The ELF kernel inside a bzImage (xz, gzip or zstd payload), or ``None``."""
    import lzma
    import zlib

    for magic in (_XZ_MAGIC, _ZSTD_MAGIC, _GZ_MAGIC):
        start = image.find(magic)
        while start != -1:
            try:
                if magic == _XZ_MAGIC:
                    out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(image[start:])
                elif magic == _GZ_MAGIC:
                    out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(image[start:])
                else:
                    try:
                        import zstandard
                    except ImportError:
                        break
                    out = zstandard.ZstdDecompressor().decompressobj().decompress(image[start:])
            except (lzma.LZMAError, zlib.error, ValueError, EOFError):
                out = b""
            except Exception:  # zstandard's own error type
                out = b""
            if out[:4] == b"\x7fELF":
                return out
            start = image.find(magic, start + 1)
    return None


def unpacked_kernel(kernel: GuestKernel, cache_dir: Path) -> Path:
    """A kernel image QEMU boots fastest: the extracted PVH-capable ELF when there is one.

    The extraction runs once per kernel file and is cached in ``cache_dir``; kernels that are
    already ELF, or carry no PVH note, or whose payload cannot be unpacked, are returned as is.
    """
    out = cache_dir / f"vmlinux-{_file_key(kernel.path)}"
    if out.is_file():
        return out
    marker = cache_dir / f"vmlinux-{_file_key(kernel.path)}.none"
    if marker.exists():
        return kernel.path
    image = kernel.path.read_bytes()
    if image[:4] == b"\x7fELF":
        return kernel.path
    elf = _decompress_payload(image)
    cache_dir.mkdir(parents=True, exist_ok=True)
    if elf is None or not _has_pvh_note(elf):
        marker.touch()
        return kernel.path
    write_atomic(out, elf)
    os.chmod(out, 0o644)
    return out
