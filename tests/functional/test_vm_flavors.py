"""The VM flavors (``qemu`` and ``kvm``) through the rkt CLI: real VMs, under TCG where KVM is unusable.

Each test boots one VM and checks several things of it, to keep the number of boots small:
exit codes and the several-apps rule, stdout and stderr reaching the caller, env and args,
user, group and supplementary groups, volumes written from the guest (and read-only ones
refused), the default network (the pod's address on the guest's eth0, the gateway reachable,
the address in ``list`` and ``status``), ``enter`` (stdin forwarded, exit codes back),
``stop``, and a ``gc`` that leaves no VM, QEMU process, libvirt domain, socket, tap device
or address lease.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Rkt, wait_for
from tests.support.libvirt import URI, libvirt_daemons

FLAVORS = ("qemu", "kvm")


@pytest.fixture(scope="module")
def vm_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local config dir pointing both flavors at one cache (initramfs and kernel built once)."""
    cfg = tmp_path_factory.mktemp("vm-config")
    cache = tmp_path_factory.mktemp("vm-cache")
    (cfg / "stage1.d").mkdir()
    settings = {"cache_dir": str(cache)}
    (cfg / "stage1.d" / "vm.json").write_text(json.dumps(
        {"rktKind": "stage1", "rktVersion": "v1", "settings": {"qemu": settings, "kvm": settings}}))
    return cfg


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[bool]:
    with libvirt_daemons() as ok:
        yield ok


@pytest.fixture(params=FLAVORS)
def flavor(request: pytest.FixtureRequest, libvirtd: bool) -> str:
    name = str(request.param)
    if name == "kvm" and not libvirtd:
        pytest.skip("libvirtd cannot be started here")
    return name


def run_args(vm_config: Path, flavor: str, *args: str, net: str = "none") -> tuple[str, ...]:
    return (f"--local-config={vm_config}", "--insecure-options=image", "run", f"--stage1-name={flavor}",
            f"--net={net}", *args)


def qemu_processes(uuid: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "qemu-system" in line and uuid in line]


def domains() -> list[str]:
    import libvirt

    conn = libvirt.open(URI)
    try:
        return [d.name() for d in conn.listAllDomains()]
    finally:
        conn.close()


def uuid_of(rkt: Rkt) -> str:
    pods = rkt.pods()
    assert len(pods) == 1, pods
    return pods[0].name


def leases_of(rkt: Rkt, uuid: str) -> list[Path]:
    """Address lease files naming the pod (host-wide lease directories, or the data dir's)."""
    found = []
    for root in (Path("/var/lib/cni/networks"), rkt.data / "net"):
        if root.is_dir():
            for f in root.rglob("*"):
                try:
                    if f.is_file() and uuid in f.read_text(errors="replace"):
                        found.append(f)
                except OSError:
                    continue
    return found


class LineListener:
    """A TCP listener on ``addr`` that records the first line of each connection."""

    def __init__(self, addr: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(4)
        self.sock.settimeout(60)
        self.port = int(self.sock.getsockname()[1])
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            data = b""
            while b"\n" not in data:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            self.lines.append(data.decode(errors="replace").strip())

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


def status(rkt: Rkt, uuid: str) -> dict[str, str]:
    r = rkt.run_ok("status", uuid)
    return dict(line.split("=", 1) for line in r.out.splitlines() if "=" in line)


def test_single_app_exit_code_output_env_args(rkt: Rkt, image: Any, vm_config: Path, flavor: str) -> None:
    img = image(env={"FOO": "image"})
    r = rkt(*run_args(vm_config, flavor, "--set-env=BAR=cli", img, "--memory=300M", "--cpu=2", "--exec=/bin/sh",
                      "--", "-c", 'echo "out $FOO $BAR $0 $1 $(id -u) $(pwd)"; echo "to-stderr" >&2; '
                      'echo "size $(grep -c ^processor /proc/cpuinfo) $(grep MemTotal /proc/meminfo)"; exit 3',
                      "zero", "one two"), timeout=180)
    assert r.code == 3, str(r)
    assert "out image cli zero one two 0 /" in r.out, str(r)
    # the VM is sized from the app's isolators: 2 vCPUs, and room for 300 MiB beside the guest's own needs
    size = next(line for line in r.out.splitlines() if line.startswith("size ")).split()
    assert size[1] == "2", str(r)
    assert int(size[3]) > 300 * 1024, str(r)
    assert "to-stderr" in r.err
    assert "to-stderr" not in r.out
    assert "Linux version" not in r.out and "Linux version" not in r.err, "kernel messages leaked"
    st = status(rkt, uuid_of(rkt))
    assert st["exited"] == "true"
    assert [v for k, v in st.items() if k.startswith("app-")] == ["3"]
    assert st["vcpus"] == "2" and int(st["memoryMiB"]) > 300, st


def test_several_apps_first_failure_and_volumes(rkt: Rkt, image: Any, vm_config: Path, flavor: str,
                                                tmp_path: Path) -> None:
    rw = tmp_path / "rw"
    ro = tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (ro / "given").write_text("from-host\n")
    declared = tmp_path / "declared"
    declared.mkdir()
    # the image declares a read-only mount point; its volume sets no readOnly of its own
    img = image(env={"FOO": "image"}, app={"mountPoints": [{"name": "decl", "path": "/decl", "readOnly": True}]})
    r = rkt(*run_args(vm_config, flavor,
                      f"--volume=rw,kind=host,source={rw}", f"--volume=ro,kind=host,source={ro},readOnly=true",
                      f"--volume=decl,kind=host,source={declared}",
                      img, "--name=writer", "--mount=volume=rw,target=/data", "--mount=volume=ro,target=/ro",
                      "--exec=/bin/sh", "--", "-c",
                      "echo guest-wrote > /data/out; cat /ro/given; "
                      "if echo x > /ro/nope 2>/dev/null; then echo ro-broken; fi; "
                      "if echo x > /decl/nope 2>/dev/null; then echo decl-ro-broken; fi; exec sleep 600",
                      "---", img, "--name=failer", "--user=user", "--group=1000", "--supplementary-gids=44,1234",
                      "--exec=/bin/sh", "--", "-c", 'echo "ids $(id -u) $(id -g) $(id -G)"; sleep 2; exit 7'),
            timeout=180)
    assert r.code == 7, str(r)
    ids = next(line for line in r.out.splitlines() if line.startswith("ids ")).split()
    assert ids[1:3] == ["1000", "1000"], str(r)
    assert {"44", "1234", "29"} <= set(ids[3:]), f"explicit and /etc/group supplementary groups: {r}"
    assert "0" not in ids[3:], str(r)
    assert (rw / "out").read_text() == "guest-wrote\n"
    assert "from-host" in r.out
    assert "ro-broken" not in r.out
    assert not (ro / "nope").exists()
    assert not (declared / "nope").exists()
    st = status(rkt, uuid_of(rkt))
    assert st["app-failer"] == "7"
    assert st["app-writer"] == "143", "the sibling was stopped with SIGTERM"


def test_network_enter_stop_and_gc_leave_nothing(rkt: Rkt, image: Any, vm_config: Path, flavor: str) -> None:
    img = image(env={"FOO": "image"})
    p = rkt.popen(*run_args(vm_config, flavor, img, "--exec=/bin/sh", "--", "-c",
                            "echo ready > /tmp/state; exec sleep 600", net="default"))
    uuid = wait_for(lambda: rkt.pods() and rkt.pods()[0].name, what="pod dir")
    wait_for(lambda: status(rkt, uuid).get("state") == "running", timeout=30, what="running pod")
    wait_for(lambda: rkt("enter", uuid, "/bin/cat", "/tmp/state").out == "ready\n", timeout=120,
             what="app running in the guest")
    # the default network: the pod's address on eth0, shown by list and status; the gateway answers
    st = status(rkt, uuid)
    net_name, _, ip = st["networks"].partition(":ip4=")
    assert net_name == "default" and ip, st
    assert f"default:ip4={ip}" in rkt.run_ok("list", "--no-legend").out
    addr = rkt("enter", uuid, "/bin/ip", "-4", "addr", "show", "dev", "eth0")
    assert f"inet {ip}/" in addr.out, str(addr)
    route = rkt("enter", uuid, "/bin/ip", "route", "show", "default")
    gateway = route.out.split()[2]
    assert route.out.startswith("default via "), str(route)
    assert rkt("enter", uuid, "/bin/ping", "-c", "1", "-W", "5", gateway).code == 0
    listener = LineListener(gateway)
    try:
        nc = rkt("enter", uuid, "/bin/nc", gateway, str(listener.port), input="hello-from-the-guest\n", timeout=60)
        listener.thread.join(timeout=30)
    finally:
        listener.close()
    assert listener.lines == ["hello-from-the-guest"], str(nc)
    # enter: stdin reaches the command, exit codes come back
    e = rkt("enter", uuid, "/bin/cat", input="hi\n")
    assert (e.code, e.out) == (0, "hi\n"), str(e)
    e = rkt("enter", uuid, "/bin/sh", "-c", 'echo "in $AC_APP_NAME $(hostname)"; exit 4')
    assert e.code == 4, str(e)
    assert e.out == f"in busybox rkt-{uuid}\n"
    assert rkt("enter", uuid, "/bin/sh", "-c", "kill -9 $$").code == 137
    assert rkt("enter", uuid, "/no/such/command").code != 0
    taps = [t for t in os.listdir("/sys/class/net") if uuid[:8] in t]
    assert taps, "the pod's network is a tap device on the host"
    assert leases_of(rkt, uuid)
    assert qemu_processes(uuid), "the VM runs QEMU"
    if flavor == "kvm":
        assert f"rkt-{uuid}" in domains()
    rkt.run_ok("stop", uuid)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    gc = rkt.run_ok("gc", "--grace-period=0s")
    assert not rkt.pods(), str(gc)
    assert not qemu_processes(uuid)
    if flavor == "kvm":
        assert f"rkt-{uuid}" not in domains()
        assert not Path(f"/run/rkt/kvm/{uuid}").exists()
    assert not [t for t in os.listdir("/sys/class/net") if uuid[:8] in t], "tap device left"
    assert not leases_of(rkt, uuid), "address lease left"


def test_net_host_is_refused(rkt: Rkt, image: Any, vm_config: Path, flavor: str) -> None:
    r = rkt(f"--local-config={vm_config}", "--insecure-options=image", "run", f"--stage1-name={flavor}",
            "--net=host", image(env={"FOO": "image"}))
    assert r.code == 254
    assert "--net=host" in r.err and flavor in r.err
