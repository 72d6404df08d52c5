"""Build the ``qemu-system-x86_64`` command line of a pod's VM.

``microvm`` machines get virtio-mmio devices (``virtio-*-device``); ``q35`` and ``pc`` get
virtio-pci ones. The character devices (kernel console, control, apps' stdout and stderr)
are sockets QEMU receives already connected (``fd=N``), so no socket file is left behind.
"""

from __future__ import annotations

from pathlib import Path

from rkt_sdk.record import Record
from rkt_sdk.types import NetworkAttachment
from rkt_sdk.vm.guest import CONTROL_PORT, STDERR_PORT, STDOUT_PORT, Share


def qemu_escape(value: str) -> str:
    """A value for a QEMU ``key=value,...`` option (commas doubled)."""
    return value.replace(",", ",,")


def host_tsc_khz(cpuinfo: Path = Path("/proc/cpuinfo")) -> int:
    """The host's TSC rate in kHz as far as the kernel tells (0 if unknown).

    Under TCG the guest reads the host's TSC; telling the guest its rate spares it a
    calibration against emulated timers, which fails at random on a loaded host (the guest
    then hangs with "Unable to calibrate against PIT").
    """
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("cpu MHz"):
                return int(float(line.split(":", 1)[1]) * 1000)
    except (OSError, ValueError):
        pass
    return 0


def kernel_cmdline(machine: str, extra: str = "", debug: bool = False, accel: str = "tcg") -> str:
    """The guest kernel command line: console on the first serial port, quiet unless debugging."""
    parts = ["console=ttyS0", "panic=-1", "reboot=t", "rdinit=/init"]
    if not debug:
        parts.append("quiet")
    if machine.startswith("microvm"):
        parts.append("pci=off")
    khz = host_tsc_khz() if accel == "tcg" else 0
    if khz:
        parts += [f"tsc_early_khz={khz}", "tsc=reliable"]
    if extra:
        parts.append(extra)
    return " ".join(parts)


class VMSpec(Record):
    """What a pod's VM is made of, whatever runs it (QEMU directly or libvirt).

    :ivar name: VM name (``rkt-<uuid>``).
    :ivar kernel: kernel image; :ivar initramfs: initramfs image; :ivar cmdline: kernel command line.
    :ivar memory_mib: guest RAM; :ivar vcpus: virtual CPUs.
    :ivar accel: ``"kvm"`` or ``"tcg"``; :ivar machine: QEMU machine type.
    :ivar shares: 9p exports; :ivar networks: tap devices to attach.
    """

    name: str
    kernel: Path
    initramfs: Path
    cmdline: str
    memory_mib: int
    vcpus: int
    accel: str
    machine: str
    shares: tuple[Share, ...] = ()
    networks: tuple[NetworkAttachment, ...] = ()
    uuid: str = ""


class ChardevFds(Record):
    """Connected sockets QEMU gets for the serial console and the three virtio-serial ports."""

    console: int
    control: int
    stdout: int
    stderr: int


def qemu_argv(binary: str, spec: VMSpec, fds: ChardevFds) -> list[str]:
    """The full QEMU command line for ``spec`` with its chardevs on ``fds``."""
    mmio = spec.machine.startswith("microvm")
    dev = (lambda kind: f"virtio-{kind}-device") if mmio else (lambda kind: f"virtio-{kind}-pci")
    argv = [binary, "-name", f"{spec.name},process={spec.name}", "-M", spec.machine,
            "-accel", spec.accel, "-m", str(spec.memory_mib), "-smp", str(spec.vcpus),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", str(spec.kernel), "-initrd", str(spec.initramfs), "-append", spec.cmdline]
    if spec.uuid:
        argv += ["-uuid", spec.uuid]
    if spec.accel == "kvm":
        argv += ["-cpu", "host"]
    argv += ["-chardev", f"socket,id=con,fd={fds.console},server=off", "-serial", "chardev:con",
             "-device", dev("serial") + ",id=vser"]
    for cid, fd, port in (("ctl", fds.control, CONTROL_PORT), ("out", fds.stdout, STDOUT_PORT),
                          ("err", fds.stderr, STDERR_PORT)):
        argv += ["-chardev", f"socket,id={cid},fd={fd},server=off",
                 "-device", f"virtserialport,bus=vser.0,chardev={cid},name={port}"]
    for i, s in enumerate(spec.shares):
        ro = ",readonly=on" if s.read_only else ""
        argv += ["-fsdev", f"local,id=fs{i},path={qemu_escape(str(s.path))},security_model=passthrough{ro}",
                 "-device", f"{dev('9p')},fsdev=fs{i},mount_tag={s.tag}"]
    for i, n in enumerate(spec.networks):
        argv += ["-netdev", f"tap,id=net{i},ifname={n.ifname},script=no,downscript=no",
                 "-device", f"{dev('net')},netdev=net{i},mac={n.mac}"]
    argv += ["-device", dev("rng")]
    return argv

