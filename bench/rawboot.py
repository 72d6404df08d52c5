"""The peer of the VM flavors: a bare ``qemu-system-x86_64`` boot of the guest kernel and initramfs.

Uses the VM kit the flavors use (same kernel, unpacked for a direct boot as they do by default,
same initramfs, same machine type, same accelerator choice), with the guest's probe argument:
its init prints a marker as its first act and reboots. The time to that marker is the boot a
flavor cannot avoid; what the flavor adds beyond it is its own overhead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.timing import BenchError

#: the machine type each VM flavor boots by default (its ``machine`` setting)
MACHINES = {"qemu": "microvm", "kvm": "microvm"}


@dataclass(frozen=True)
class RawBoot:
    """The raw boot's command line, the marker it prints, the accelerator and why (if not KVM)."""

    argv: list[str]
    marker: bytes
    accel: str
    kernel: Path
    note: str


def raw_boot(cache_dir: Path, machine: str, qemu: str = "qemu-system-x86_64") -> RawBoot:
    """Build (or find in ``cache_dir``) what the raw boot needs; raise BenchError if the VM kit is missing."""
    try:
        from rkt_sdk.vm.accel import kvm_problem
        from rkt_sdk.vm.guest import PROBE_ARG, PROBE_MARKER
        from rkt_sdk.vm.initramfs import build_initramfs
        from rkt_sdk.vm.kernel import find_kernel, unpacked_kernel
        from rkt_sdk.vm.qemu import kernel_cmdline
    except ImportError as e:
        raise BenchError(f"the VM kit is not available: {e}") from None
    try:
        kernel = find_kernel()
        image = unpacked_kernel(kernel, cache_dir)
        initramfs = build_initramfs(kernel, cache_dir)
        problem = kvm_problem(qemu, image, initramfs, cache_dir, 5.0, machine)
    except Exception as e:  # the kit's own errors name what is missing
        raise BenchError(f"cannot prepare the raw boot: {e}") from None
    accel = "tcg" if problem else "kvm"
    note = f"{machine}, {accel}, {'unpacked ' if image != kernel.path else ''}kernel {kernel.version}"
    if problem:
        note += " (KVM unusable here)"
    argv = [qemu, "-M", machine, "-accel", accel, "-m", "256", "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot", "-kernel", str(image), "-initrd", str(initramfs),
            "-append", kernel_cmdline(machine, PROBE_ARG, accel=accel), "-serial", "stdio"]
    return RawBoot(argv, PROBE_MARKER.encode(), accel, image, note)
