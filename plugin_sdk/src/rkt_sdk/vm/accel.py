"""Choose the accelerator: KVM when a real probe shows it runs a standard guest, else TCG.

``/dev/kvm`` existing is not enough: nested or paravirtual KVM (``kvm_pvm``) accepts ioctls
and even runs a few real-mode instructions, yet a standard kernel hangs. So the probe boots
the actual guest kernel and initramfs under ``-accel kvm`` with ``rkt.probe`` on its command
line (the init prints a marker at once and reboots) and waits at most a bounded time. The
verdict is cached per host boot (keyed by ``/proc/sys/kernel/random/boot_id``, the QEMU
binary and the kernel), so only the first VM after a reboot pays for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rkt_sdk.poddir import write_atomic
from rkt_sdk.record import Record
from rkt_sdk.vm.errors import AccelUnavailable
from rkt_sdk.vm.guest import PROBE_ARG, PROBE_MARKER

KVM_DEV = Path("/dev/kvm")
_KVM_GET_API_VERSION = 0xAE00
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class AccelChoice(Record):
    """The accelerator to use and, when KVM was wanted but is not used, why.

    :ivar accel: ``"kvm"`` or ``"tcg"``.
    :ivar reason: why KVM is not used ("" when it is, or when TCG was asked for).
    """

    accel: str
    reason: str = ""


def kvm_device_problem(dev: Path = KVM_DEV) -> str:
    """Why ``dev`` cannot be used at all ("" if it opens and speaks KVM API 12)."""
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return f"{dev} does not exist (no KVM module loaded, or no hardware virtualization)"
    except PermissionError:
        return f"{dev}: permission denied"
    except OSError as e:
        return f"{dev}: {e.strerror}"
    try:
        version = fcntl.ioctl(fd, _KVM_GET_API_VERSION)
    except OSError as e:
        return f"{dev}: KVM_GET_API_VERSION failed: {e.strerror}"
    finally:
        os.close(fd)
    if version != 12:
        return f"{dev}: unexpected KVM API version {version}"
    return ""


def probe_boot(qemu: str, kernel: Path, initramfs: Path, timeout: float, machine: str = "microvm") -> str:
    """Boot the guest under KVM until its init prints the probe marker; "" if it did, else why not."""
    argv = [qemu, "-M", machine, "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot", "-kernel", str(kernel), "-initrd", str(initramfs),
            "-append", f"console=ttyS0 quiet panic=-1 reboot=t {PROBE_ARG}", "-serial", "stdio"]
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        return f"cannot run {qemu}: {e.strerror}"
    assert p.stdout is not None and p.stderr is not None
    deadline = time.monotonic() + timeout
    out = b""
    err = b""
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    sel.register(p.stderr, selectors.EVENT_READ)
    try:
        while PROBE_MARKER.encode() not in out:
            left = deadline - time.monotonic()
            if left <= 0:
                return f"a guest under KVM did not reach its init within {timeout:g}s (KVM seems unable to run a " \
                       "standard guest here, e.g. nested or paravirtual KVM)"
            events = sel.select(left)
            if not events and p.poll() is not None:
                break
            eof = 0
            for key, _ in events:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    eof += 1
                elif key.fileobj is p.stdout:
                    out += chunk
                else:
                    err += chunk
            if not sel.get_map():
                break
        if PROBE_MARKER.encode() in out:
            return ""
        last = err.decode(errors="replace").strip().splitlines()
        return f"a guest under KVM failed: {last[-1] if last else 'qemu exited with status ' + str(p.wait())}"
    finally:
        sel.close()
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return ""


def kvm_problem(qemu: str, kernel: Path, initramfs: Path, cache_dir: Path, timeout: float,
                machine: str = "microvm") -> str:
    """Why KVM cannot run the guest on this host ("" if it can); the probe's verdict is cached per boot."""
    problem = kvm_device_problem()
    if problem:
        return problem
    qemu_path = shutil.which(qemu) or qemu
    key = {"bootId": _boot_id(), "qemu": qemu_path, "kernel": str(kernel)}
    cache = cache_dir / "kvm-probe.json"
    try:
        cached = json.loads(cache.read_text())
        if isinstance(cached, dict) and all(cached.get(k) == v for k, v in key.items()) and key["bootId"]:
            return str(cached.get("problem", ""))
    except (OSError, ValueError):
        pass
    problem = probe_boot(qemu_path, kernel, initramfs, timeout, machine)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, json.dumps({**key, "problem": problem}) + "\n")
    except OSError:
        pass
    return problem


def choose_accel(setting: str, qemu: str, kernel: Path, initramfs: Path, cache_dir: Path, timeout: float,
                 machine: str = "microvm", warn: bool = False) -> AccelChoice:
    """Apply the ``accel`` setting (``auto``, ``kvm``, ``tcg``).

    :raises AccelUnavailable: ``accel=kvm`` and KVM does not work here.
    """
    if setting == "tcg":
        return AccelChoice("tcg")
    problem = kvm_problem(qemu, kernel, initramfs, cache_dir, timeout, machine)
    if not problem:
        return AccelChoice("kvm")
    if setting == "kvm":
        raise AccelUnavailable(f"setting accel=kvm: KVM is unusable on this host: {problem}")
    if warn:
        print(f"rkt: warning: KVM is unusable on this host ({problem}); running the VM under TCG emulation "
              "(slower; set accel=tcg in the flavor's stage1 config to skip the probe)", file=sys.stderr)
    return AccelChoice("tcg", problem)
