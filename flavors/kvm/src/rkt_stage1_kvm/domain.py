"""The pod's VM as a transient libvirt domain: its XML, its start, its lifecycle events, its end.

The domain is created with ``VIR_DOMAIN_START_AUTODESTROY``: libvirt destroys it when the
connection of the ``rkt run`` process closes, so a crashed stage1 leaves no VM. The end of
the domain is learnt from a lifecycle event (``virEventRegisterDefaultImpl`` and
``domainEventRegisterAny``), delivered on an event-loop thread and handed to the
supervisor's loop through a pipe; nothing polls libvirt.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.types import HostCheck, Pod, RunOptions
from rkt_sdk.vm.errors import VMError
from rkt_sdk.vm.guest import CONTROL_PORT, STDERR_PORT, STDOUT_PORT
from rkt_sdk.vm.qemu import VMSpec
from rkt_sdk.vm.record import cleanup_stage1_data, read_record, write_record
from rkt_sdk.vm.sandbox import make_supervisor
from rkt_sdk.vm.settings import VMSettings
from rkt_sdk.vm.supervisor import GuestChannels
from rkt_stage1_kvm.settings import DEFAULT_MACHINE, libvirt_uri, runtime_dir

#: the sockets of the domain's character devices, in :class:`GuestChannels` order.
CHANNELS = ("console", "control", "stdout", "stderr")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, tag, attrs)
    if text is not None:
        e.text = text
    return e


def _devices(dev: ET.Element, spec: VMSpec, emulator: str, sockets: Path) -> None:
    """The domain's devices: console, guest channels, 9p shares, taps, entropy; virtio-mmio on microvm."""
    _sub(dev, "emulator", emulator)
    mmio = spec.machine.startswith("microvm")

    def place(e: ET.Element) -> ET.Element:
        if mmio:
            _sub(e, "address", type="virtio-mmio")
        return e

    if mmio:
        place(_sub(dev, "controller", type="virtio-serial", index="0"))
    serial = _sub(dev, "serial", type="unix")
    _sub(serial, "source", mode="bind", path=str(sockets / "console"))
    _sub(serial, "target", port="0")
    for name, port in (("control", CONTROL_PORT), ("stdout", STDOUT_PORT), ("stderr", STDERR_PORT)):
        ch = _sub(dev, "channel", type="unix")
        _sub(ch, "source", mode="bind", path=str(sockets / name))
        _sub(ch, "target", type="virtio", name=port)
    for s in spec.shares:
        fs = _sub(dev, "filesystem", type="mount", accessmode="passthrough")
        _sub(fs, "driver", type="path")
        _sub(fs, "source", dir=str(s.path))
        _sub(fs, "target", dir=s.tag)
        if s.read_only:
            _sub(fs, "readonly")
        place(fs)
    for n in spec.networks:
        iface = _sub(dev, "interface", type="ethernet")
        _sub(iface, "target", dev=n.ifname, managed="no")
        if n.mac:
            _sub(iface, "mac", address=n.mac)
        _sub(iface, "model", type="virtio")
        place(iface)
    rng = _sub(dev, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    place(rng)
    _sub(dev, "controller", type="usb", model="none")
    _sub(dev, "memballoon", model="none")


def domain_xml(spec: VMSpec, emulator: str, sockets: Path) -> str:
    """The libvirt domain XML of ``spec``, with its character devices as sockets under ``sockets``."""
    dom = ET.Element("domain", type="kvm" if spec.accel == "kvm" else "qemu")
    _sub(dom, "name", spec.name)
    if spec.uuid:
        _sub(dom, "uuid", spec.uuid)
    _sub(dom, "memory", str(spec.memory_mib), unit="MiB")
    _sub(dom, "vcpu", str(spec.vcpus))
    os_ = _sub(dom, "os")
    _sub(os_, "type", "hvm", arch="x86_64", machine=spec.machine)
    _sub(os_, "kernel", str(spec.kernel))
    _sub(os_, "initrd", str(spec.initramfs))
    _sub(os_, "cmdline", spec.cmdline)
    feats = _sub(dom, "features")
    _sub(feats, "acpi")
    if spec.accel == "kvm":
        _sub(dom, "cpu", mode="host-passthrough")
    _sub(dom, "clock", offset="utc")
    for ev in ("on_poweroff", "on_reboot", "on_crash"):
        _sub(dom, ev, "destroy")
    _devices(_sub(dom, "devices"), spec, emulator, sockets)
    sec = _sub(dom, "seclabel", type="static", model="dac", relabel="no")
    _sub(sec, "label", "+0:+0")
    return ET.tostring(dom, encoding="unicode")


class _EventLoop:
    """libvirt's default event loop on a daemon thread (registered once per process)."""

    _lock = threading.Lock()
    _started = False

    @classmethod
    def ensure(cls) -> None:
        import libvirt

        with cls._lock:
            if cls._started:
                return
            libvirt.virEventRegisterDefaultImpl()
            libvirt.virEventAddTimeout(500, lambda *_: None, None)
            threading.Thread(target=cls._run, name="libvirt-events", daemon=True).start()
            cls._started = True

    @staticmethod
    def _run() -> None:
        import libvirt

        while True:
            if libvirt.virEventRunDefaultImpl() < 0:
                time.sleep(0.1)


def quiet_libvirt() -> None:
    """Keep libvirt's default error handler from printing on stderr (errors are raised anyway)."""
    import libvirt

    libvirt.registerErrorHandler(lambda *_: None, None)


#: this process's open connections by URI: the host check's connection serves the run after it
_connections: dict[str, Any] = {}


def connection(uri: str) -> Any:
    """A connection to ``uri`` with the event loop running, opened once per process.

    :raises libvirt.libvirtError: libvirt does not answer.
    """
    conn = _connections.get(uri)
    if conn is not None:
        try:
            if conn.isAlive():
                return conn
        except Exception:  # a dead connection is replaced, whatever it raises
            pass
    _EventLoop.ensure()  # before the connection opens, or it gets no events
    quiet_libvirt()
    import libvirt

    conn = _connections[uri] = libvirt.open(uri)
    return conn


def release(uri: str, conn: Any) -> None:
    """Close ``conn`` and forget it."""
    import libvirt

    if _connections.get(uri) is conn:
        del _connections[uri]
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def _open(uri: str) -> Any:
    import libvirt

    try:
        return connection(uri)
    except libvirt.libvirtError as e:
        raise VMError(f"libvirt {uri}: cannot connect: {e.get_error_message()} (is libvirtd running?)") from None


class LibvirtVM:
    """A transient domain as a :class:`rkt_sdk.vm.supervisor.VMHandle`."""

    def __init__(self, uri: str, name: str) -> None:
        import libvirt

        self.name = name
        self.uri = uri
        self.conn = _open(uri)
        self.dom: Any = None
        self._r, self._w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._ended = False
        self._cb = self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None)

    def _lifecycle(self, _conn: Any, dom: Any, event: int, _detail: int, _opaque: Any) -> None:
        import libvirt

        if dom.name() == self.name and event in (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_CRASHED,
                                                 libvirt.VIR_DOMAIN_EVENT_UNDEFINED):
            self._signal_end()

    def _signal_end(self) -> None:
        if not self._ended:
            self._ended = True
            try:
                os.write(self._w, b"x")
            except OSError:
                pass

    def create(self, xml: str) -> None:
        import libvirt

        try:
            self.dom = self.conn.createXML(xml, libvirt.VIR_DOMAIN_START_AUTODESTROY)
        except libvirt.libvirtError as e:
            raise VMError(f"libvirt: cannot start domain {self.name}: {e.get_error_message()}") from None

    def ended_fd(self) -> int:
        return self._r

    def force_off(self) -> None:
        import libvirt

        if self.dom is None:
            return
        try:
            self.dom.destroy()
        except libvirt.libvirtError:
            pass

    def finish(self) -> None:
        import libvirt

        self.force_off()
        try:
            self.conn.domainEventDeregisterAny(self._cb)
        except libvirt.libvirtError:
            pass
        release(self.uri, self.conn)
        os.close(self._r)
        os.close(self._w)


def _connect_channels(sockets: Path, timeout: float = 10.0) -> GuestChannels:
    out: list[socket.socket] = []
    deadline = time.monotonic() + timeout
    for name in CHANNELS:
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                s.connect(str(sockets / name))
                break
            except OSError as e:
                s.close()
                if time.monotonic() > deadline:
                    for o in out:
                        o.close()
                    raise VMError(f"cannot connect to the domain's {name} socket {sockets / name}: {e.strerror}") \
                        from None
                time.sleep(0.02)
        out.append(s)
    return GuestChannels(*out)


def run_pod(pod: Pod, options: RunOptions) -> int:
    """Boot the pod's VM as a transient domain and follow it until it ends; the pod's exit code."""
    from rkt_sdk.vm.podvm import prepare_vm

    vs = VMSettings.from_mapping(options.settings, DEFAULT_MACHINE)
    prep = prepare_vm(pod, options, "kvm", vs)
    uri = libvirt_uri(options.settings)
    sockets = runtime_dir(options.settings, pod.uuid)
    sockets.mkdir(parents=True, exist_ok=True, mode=0o700)
    emulator = shutil.which(vs.qemu_binary) or vs.qemu_binary
    xml = domain_xml(prep.spec, emulator, sockets)
    pd = PodDir(pod.path)
    write_atomic(pd.make_stage1_data() / "domain.xml", xml)
    vm = LibvirtVM(uri, prep.spec.name)
    try:
        vm.create(xml)
        pd.write_pid(os.getpid())
        write_record(pod.path, {"vm": prep.spec.name, "accel": prep.spec.accel, "machine": prep.spec.machine,
                                "memoryMiB": prep.spec.memory_mib, "vcpus": prep.spec.vcpus, "libvirtUri": uri,
                                "runtimeDir": str(sockets), "kernel": str(prep.spec.kernel)})
        channels = _connect_channels(sockets)
    except BaseException:
        vm.finish()
        shutil.rmtree(sockets, ignore_errors=True)
        raise
    sup = make_supervisor(pod, channels, vm, stop_timeout=options.stop_timeout, boot_timeout=vs.boot_timeout,
                          debug=options.debug)
    try:
        return sup.run()
    finally:
        for s in (channels.console, channels.control, channels.stdout, channels.stderr):
            s.close()
        shutil.rmtree(sockets, ignore_errors=True)


def destroy_domain(pod_path: Path, uuid: str, uri: str = "", timeout: float = 15.0) -> None:
    """Destroy the pod's domain if libvirt still has it, and wait until libvirt has let it go.

    No error if there is no such domain or libvirt is down. A domain libvirt is already
    tearing down (its guest shut down as its pod ended) is waited for, up to ``timeout``.
    """
    import libvirt

    uri = uri or str(read_record(pod_path).get("libvirtUri") or "") or "qemu:///system"
    name = f"rkt-{uuid}"
    quiet_libvirt()
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                return  # gone
            try:
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
            except libvirt.libvirtError:
                pass  # being torn down by libvirt right now: look again
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
    finally:
        conn.close()


def cleanup(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    """Garbage-collect: no domain, socket or temporary file of the pod left."""
    rec = read_record(pod_path)
    destroy_domain(pod_path, uuid, str(rec.get("libvirtUri") or libvirt_uri(settings)))
    shutil.rmtree(runtime_dir(settings, uuid), ignore_errors=True)
    if rec.get("runtimeDir"):
        shutil.rmtree(str(rec["runtimeDir"]), ignore_errors=True)
    cleanup_stage1_data(pod_path)


def host_check(settings: Mapping[str, Any]) -> HostCheck:
    """QEMU, kernel and busybox as for any VM flavor, and a libvirt daemon that answers."""
    from rkt_sdk.vm.podvm import vm_host_check

    try:
        import libvirt
    except ImportError:
        return HostCheck(False, "libvirt-python is not installed (pip install libvirt-python)")
    uri = libvirt_uri(settings)
    try:
        connection(uri)  # kept open: a run in this process uses it
    except libvirt.libvirtError as e:
        return HostCheck(False, f"libvirt {uri}: cannot connect: {e.get_error_message()} (start libvirtd, "
                                "or set \"libvirt_uri\")")
    return vm_host_check(VMSettings.from_mapping(settings, DEFAULT_MACHINE))
