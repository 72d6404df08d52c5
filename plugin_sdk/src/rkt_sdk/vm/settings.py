"""Per-host settings every VM flavor accepts, and typed access to them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk.record import Record
from rkt_sdk.types import ConfigField

DEFAULT_CACHE_DIR = Path("/var/cache/rkt/vm")


def vm_config_fields(machine: str) -> list[ConfigField]:
    """The settings shared by VM flavors; ``machine`` is the flavor's default machine type."""
    return [
        ConfigField("kernel", "path", "", "guest kernel image (default: the newest /boot/vmlinuz-*)"),
        ConfigField("modules_dir", "path", "", "kernel module tree for the guest (default: /lib/modules/<version>)"),
        ConfigField("initramfs_modules", "list", [], "extra kernel modules loaded in the guest"),
        ConfigField("initramfs_files", "list", [], "extra files for the initramfs, as /host/path[:/guest/path]"),
        ConfigField("kernel_cmdline", "str", "", "extra guest kernel command-line arguments"),
        ConfigField("direct_boot", "bool", True, "boot the unpacked kernel (PVH) when possible: much faster under TCG"),
        ConfigField("memory_overhead", "int", 128, "MiB added to the apps' memory for the guest kernel and init"),
        ConfigField("app_memory", "int", 64, "MiB counted for an app without a resource/memory isolator"),
        ConfigField("accel", "choice", "auto", "acceleration: auto (KVM if a probe shows it works, else TCG "
                    "with a warning), kvm (fail without it) or tcg", ("auto", "kvm", "tcg")),
        ConfigField("kvm_probe_timeout", "int", 5, "seconds the KVM probe boot may take before KVM is judged unusable"),
        ConfigField("boot_timeout", "int", 120, "seconds the guest may take to reach its init"),
        ConfigField("qemu_binary", "str", "qemu-system-x86_64", "QEMU system emulator to run"),
        ConfigField("machine", "str", machine, "QEMU machine type (microvm, q35, pc)"),
        ConfigField("cache_dir", "path", str(DEFAULT_CACHE_DIR), "where built initramfs images, unpacked kernels "
                    "and KVM probe results are kept"),
    ]


class VMSettings(Record):
    """Typed view of the shared settings (see :func:`vm_config_fields`)."""

    kernel: str = ""
    modules_dir: str = ""
    initramfs_modules: tuple[str, ...] = ()
    initramfs_files: tuple[str, ...] = ()
    kernel_cmdline: str = ""
    direct_boot: bool = True
    memory_overhead: int = 128
    app_memory: int = 64
    accel: str = "auto"
    kvm_probe_timeout: int = 5
    boot_timeout: int = 120
    qemu_binary: str = "qemu-system-x86_64"
    machine: str = "microvm"
    cache_dir: Path = DEFAULT_CACHE_DIR

    @classmethod
    def from_mapping(cls, s: Mapping[str, Any], machine: str = "microvm") -> VMSettings:
        """Build from validated settings; missing keys take the defaults."""
        return cls(
            kernel=str(s.get("kernel") or ""), modules_dir=str(s.get("modules_dir") or ""),
            initramfs_modules=tuple(s.get("initramfs_modules") or ()),
            initramfs_files=tuple(s.get("initramfs_files") or ()),
            kernel_cmdline=str(s.get("kernel_cmdline") or ""), direct_boot=bool(s.get("direct_boot", True)),
            memory_overhead=int(s.get("memory_overhead", 128)), app_memory=int(s.get("app_memory", 64)),
            accel=str(s.get("accel") or "auto"), kvm_probe_timeout=int(s.get("kvm_probe_timeout", 5)),
            boot_timeout=int(s.get("boot_timeout", 120)),
            qemu_binary=str(s.get("qemu_binary") or "qemu-system-x86_64"),
            machine=str(s.get("machine") or machine),
            cache_dir=Path(s.get("cache_dir") or DEFAULT_CACHE_DIR))
