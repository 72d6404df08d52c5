"""From a pod to a VM ready to start: the steps both VM flavors share before booting.

Refuse what a VM cannot do (``--net=host``), find the kernel, build or reuse the initramfs,
choose the accelerator, plan the guest and write its exchange directory, and size the VM.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from rkt_sdk.errors import FlavorError
from rkt_sdk.record import Record
from rkt_sdk.types import HostCheck, Pod, RunOptions
from rkt_sdk.vm.accel import choose_accel, kvm_device_problem
from rkt_sdk.vm.errors import VMError
from rkt_sdk.vm.guest import GuestPlan, plan_pod, write_exchange
from rkt_sdk.vm.initramfs import build_initramfs, find_busybox
from rkt_sdk.vm.kernel import find_kernel, unpacked_kernel
from rkt_sdk.vm.qemu import VMSpec, kernel_cmdline
from rkt_sdk.vm.settings import VMSettings
from rkt_sdk.vm.sizing import memory_mib, vcpus

#: apps a sandbox VM is sized for (its apps are not known when it boots)
SANDBOX_APPS = 2


class BootImages(Record):
    """The kernel and initramfs a VM boots (kernel possibly unpacked for a direct boot)."""

    kernel: Path
    initramfs: Path


class PreparedVM(Record):
    """A pod's VM, planned and ready to start: its spec, the guest plan and the settings used."""

    spec: VMSpec
    plan: GuestPlan
    settings: VMSettings


@functools.lru_cache(maxsize=4)
def boot_images(vs: VMSettings) -> BootImages:
    """Find the kernel and build (or reuse) the initramfs, per the settings (once per process:
    the host check and the run of one ``rkt run`` share the answer)."""
    kernel = find_kernel(vs.kernel, vs.modules_dir)
    initramfs = build_initramfs(kernel, vs.cache_dir, extra_modules=vs.initramfs_modules,
                                extra_files=vs.initramfs_files)
    image = unpacked_kernel(kernel, vs.cache_dir) if vs.direct_boot else kernel.path
    return BootImages(image, initramfs)


def refuse_network(options: RunOptions, flavor: str) -> None:
    """VM flavors attach taps; the host network cannot be given to a VM."""
    if options.net == "host":
        raise FlavorError(f"--net=host is not supported by the {flavor} flavor")


def prepare_vm(pod: Pod, options: RunOptions, flavor: str, vs: VMSettings) -> PreparedVM:
    """Everything up to starting the VM (see the module documentation)."""
    refuse_network(options, flavor)
    if not pod.apps and not pod.mutable:
        raise VMError(f"pod {pod.uuid}: no apps to run")
    images = boot_images(vs)
    choice = choose_accel(vs.accel, vs.qemu_binary, images.kernel, images.initramfs, vs.cache_dir,
                          vs.kvm_probe_timeout, "microvm")
    plan = plan_pod(pod, options)
    write_exchange(plan)
    sandbox_memory = SANDBOX_APPS * vs.app_memory if pod.mutable else 0
    spec = VMSpec(name=f"rkt-{pod.uuid}", kernel=images.kernel, initramfs=images.initramfs,
                  cmdline=kernel_cmdline(vs.machine, vs.kernel_cmdline, options.debug, choice.accel),
                  memory_mib=memory_mib(pod, vs.memory_overhead, vs.app_memory) + sandbox_memory, vcpus=vcpus(pod),
                  accel=choice.accel, machine=vs.machine, shares=plan.shares, networks=pod.networks, uuid=pod.uuid)
    return PreparedVM(spec, plan, vs)


def vm_host_check(vs: VMSettings) -> HostCheck:
    """Whether a VM can be started here: QEMU, a kernel with modules, busybox; KVM or not."""
    if shutil.which(vs.qemu_binary) is None:
        return HostCheck(False, f"QEMU binary {vs.qemu_binary!r} not found (install qemu-system-x86 or set "
                                "\"qemu_binary\")")
    try:
        kernel = find_kernel(vs.kernel, vs.modules_dir)
        if kernel.modules_dir is None:
            return HostCheck(False, f"guest kernel {kernel.path}: no /lib/modules/{kernel.version} "
                                    "(set \"modules_dir\")")
        find_busybox()
    except VMError as e:
        return HostCheck(False, str(e))
    warnings: tuple[str, ...] = ()
    if vs.accel != "tcg":
        problem = kvm_device_problem()
        if not problem:
            try:
                from rkt_sdk.vm.accel import kvm_problem
                images = boot_images(vs)
                problem = kvm_problem(vs.qemu_binary, images.kernel, images.initramfs, vs.cache_dir,
                                      vs.kvm_probe_timeout, "microvm")
            except VMError as e:
                return HostCheck(False, str(e))
        if problem and vs.accel == "kvm":
            return HostCheck(False, f"setting accel=kvm: KVM is unusable on this host: {problem}")
        if problem:
            warnings = (f"KVM unusable ({problem}): VMs run under TCG emulation",)
    return HostCheck(True, "", warnings)
