"""Kernel modules for the guest: resolve names to files in dependency order, and read them.

The guest needs virtio transports (PCI and MMIO), virtio-serial, virtio-9p and virtio-net.
Names are resolved through the tree's ``modules.dep``; modules built into the kernel
(``modules.builtin``) are skipped; both files are read once per process and tree. Compressed
modules (``.ko.xz``, ``.ko.gz``, ``.ko.zst``) are decompressed, so the guest's ``insmod``
loads plain ELF objects.
"""

from __future__ import annotations

import functools
from pathlib import Path

from rkt_sdk.vm.errors import KernelNotFound

#: The guest's modules by group. The init loads one transport (``pci`` when the guest has
#: virtio PCI devices, else ``mmio``), then ``core`` (the serial control channel and 9p shares),
#: then ``net`` and ``rng`` only when such a virtio device is there, then the per-host extras.
GUEST_MODULE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mmio", ("virtio_mmio",)), ("pci", ("virtio_pci",)), ("core", ("virtio_console", "9pnet_virtio", "9p")),
    ("net", ("virtio_net",)), ("rng", ("virtio_rng",)))
#: Every module a guest may load (the groups' names, in order).
GUEST_MODULES: tuple[str, ...] = tuple(n for _, names in GUEST_MODULE_GROUPS for n in names)

_SUFFIXES = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")


def _norm(name: str) -> str:
    return name.replace("-", "_")


def _module_name(relpath: str) -> str:
    base = relpath.rsplit("/", 1)[-1]
    for s in _SUFFIXES[::-1]:
        if base.endswith(s):
            return _norm(base[: -len(s)])
    return _norm(base)


@functools.lru_cache(maxsize=4)
def _read_dep(modules_dir: Path) -> dict[str, tuple[str, list[str]]]:
    deps: dict[str, tuple[str, list[str]]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        mod, _, rest = line.partition(":")
        deps[_module_name(mod)] = (mod, rest.split())
    return deps


@functools.lru_cache(maxsize=4)
def _builtin(modules_dir: Path) -> frozenset[str]:
    try:
        return frozenset(_module_name(x) for x in (modules_dir / "modules.builtin").read_text().split())
    except FileNotFoundError:
        return frozenset()


def resolve_modules(modules_dir: Path, names: tuple[str, ...] | list[str]) -> list[Path]:
    """The module files to load for ``names``, dependencies first, each once.

    :raises KernelNotFound: a name is neither a module of the tree nor built in.
    """
    deps = _read_dep(modules_dir)
    builtin = _builtin(modules_dir)
    order: list[str] = []
    seen: set[str] = set()

    def visit(relpath: str) -> None:
        if relpath in seen:
            return
        seen.add(relpath)
        for d in deps.get(_module_name(relpath), (relpath, []))[1]:
            visit(d)
        order.append(relpath)

    for name in names:
        key = _norm(name)
        if key in deps:
            visit(deps[key][0])
        elif key not in builtin:
            raise KernelNotFound(f"kernel module {name!r}: not in {modules_dir}/modules.dep nor built in")
    return [modules_dir / rel for rel in order]


def read_module(path: Path) -> bytes:
    """The module's ELF bytes, decompressed if the file is compressed."""
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        import lzma
        return lzma.decompress(data)
    if path.name.endswith(".gz"):
        import gzip
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        import zstandard
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=64 << 20)
    return data


def module_name(path: Path) -> str:
    """The module's name as ``insmod`` files are named in the guest (``9pnet_virtio``)."""
    return _module_name(path.name)
