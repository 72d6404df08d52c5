"""Pod networking through the ``rkt`` command with the coreos flavor (skipped until it is installed).

Each test uses its own data and config dirs, and ends with ``rkt gc``; it then checks that the
pod's namespace, host interfaces and iptables chains are gone.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.support.aci import build_aci
from tests.support.http import get_when_up

RKT = str(Path(sys.executable).parent / "rkt")
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not entry_points(group="rkt.stage1", name="coreos") or find_spec("rkt_stage1_coreos") is None,
                       reason="coreos flavor not installed"),
    pytest.mark.skipif(find_spec("rkt.cli.fetch") is None, reason="rkt fetch not available"),
]


class Rkt:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.base = [RKT, f"--dir={tmp / 'data'}", f"--local-config={tmp / 'etc'}",
                     f"--system-config={tmp / 'lib'}"]
        self.procs: list[subprocess.Popen[str]] = []

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"rkt {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def background(self, *args: str) -> subprocess.Popen[str]:
        p = subprocess.Popen([*self.base, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def image(self, name: str, exec_: tuple[str, ...], **kw: object) -> str:
        aci = build_aci(self.tmp / f"{name}.aci", name=f"example.com/{name}", exec_=exec_, **kw)  # type: ignore[arg-type]
        self("fetch", "--insecure-options=image", str(aci))
        return f"example.com/{name}:1.0"

    def uuid_file(self, name: str) -> Path:
        return self.tmp / f"{name}.uuid"

    def wait_uuid(self, name: str) -> str:
        for _ in range(300):
            f = self.uuid_file(name)
            if f.exists() and f.read_text().strip():
                return f.read_text().strip()
            time.sleep(0.1)
        raise AssertionError(f"pod {name} never wrote its UUID")

    def networks(self, uuid: str) -> list[dict[str, str]]:
        for _ in range(300):
            st = json.loads(self("status", "--format=json", uuid).stdout)
            if st.get("networks"):
                return list(st["networks"])
            time.sleep(0.1)
        raise AssertionError(f"pod {uuid} shows no networks")

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        self("gc", "--grace-period=0s", check=False)
        self("gc", "--grace-period=0s", check=False)


@pytest.fixture
def rkt(tmp_path: Path) -> Iterator[Rkt]:
    r = Rkt(tmp_path)
    try:
        yield r
    finally:
        r.cleanup()


def leftovers(uuid: str) -> list[str]:
    sid = uuid.replace("-", "")[:8]
    out = []
    if os.path.exists(f"/var/run/netns/rkt-{uuid}"):
        out.append("netns")
    out += [link for link in os.listdir("/sys/class/net") if sid in link]
    rules = subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    if sid in rules:
        out.append("iptables")
    return out


def leases_of(uuid: str) -> list[str]:
    """Host-wide lease files naming the pod (read only: other pods' leases are left alone)."""
    root = Path("/var/lib/cni/networks")
    found = []
    for d in root.glob("*") if root.is_dir() else ():
        for f in d.iterdir():
            try:
                if json.loads(f.read_bytes()).get("uuid") == uuid:
                    found.append(f"{d.name}/{f.name}")
            except (OSError, ValueError, AttributeError):
                continue
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_default_network_shown_in_list_and_status_and_collected(rkt: Rkt) -> None:
    img = rkt.image("netshow", ("/bin/sh", "-c", "ip -4 -o addr show dev eth0; ip route show default"))
    p = rkt("run", "--stage1-name=coreos", f"--uuid-file-save={rkt.uuid_file('a')}", img)
    uuid = rkt.uuid_file("a").read_text().strip()
    assert "inet 172.16.28." in p.stdout and "default via 172.16.28.1 dev eth0" in p.stdout
    (n,) = json.loads(rkt("status", "--format=json", uuid).stdout)["networks"]
    assert n["netName"] == "default" and n["ifName"] == "eth0" and n["ip"].startswith("172.16.28.")
    assert f"default:ip4={n['ip']}" in rkt("list").stdout
    rkt("gc", "--grace-period=0s")
    rkt("gc", "--grace-period=0s")
    assert leftovers(uuid) == []
    assert leases_of(uuid) == []


def test_net_none_has_only_loopback(rkt: Rkt) -> None:
    img = rkt.image("netnone", ("/bin/sh", "-c", "ip -o link"))
    p = rkt("run", "--stage1-name=coreos", "--net=none", f"--uuid-file-save={rkt.uuid_file('n')}", img)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 and ": lo:" in lines[0]
    uuid = rkt.uuid_file("n").read_text().strip()
    rkt("gc", "--grace-period=0s")
    rkt("gc", "--grace-period=0s")
    assert leftovers(uuid) == []


def test_port_forward_and_pod_to_pod(rkt: Rkt) -> None:
    web = rkt.image("web", ("/bin/httpd", "-f", "-p", "8080", "-h", "/www"),
                    files={"www/index.html": "hello from the web pod\n"},
                    app={"ports": [{"name": "http", "protocol": "tcp", "port": 8080}]})
    host_port = free_port()
    rkt.background("run", "--stage1-name=coreos", f"--port=http:{host_port}",
                   f"--uuid-file-save={rkt.uuid_file('web')}", web)
    uuid = rkt.wait_uuid("web")
    ip = rkt.networks(uuid)[0]["ip"]
    body = get_when_up(f"http://127.0.0.1:{host_port}/index.html", tries=100)
    assert body == "hello from the web pod\n"
    client = rkt.image("client", ("/bin/wget", "-q", "-O", "-", f"http://{ip}:8080/index.html"))
    out = rkt("run", "--stage1-name=coreos", f"--uuid-file-save={rkt.uuid_file('c')}", client)
    assert out.stdout == "hello from the web pod\n"
    rkt("stop", uuid)
    rkt.cleanup()
    assert leftovers(uuid) == [] and leftovers(rkt.uuid_file("c").read_text().strip()) == []


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Rkt, Rkt]]:
    """Two rkt data dirs (and config dirs) on one host."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = Rkt(tmp_path / "a"), Rkt(tmp_path / "b")
    try:
        yield a, b
    finally:
        a.cleanup()
        b.cleanup()


def test_pods_of_two_data_dirs_share_the_default_network(two: tuple[Rkt, Rkt]) -> None:
    a, b = two
    procs = {}
    for r, name in ((a, "pa"), (b, "pb")):
        img = r.image(name, ("/bin/sh", "-c", "ip -4 -o addr show dev eth0; sleep 3"))
        procs[name] = (r, r.background("run", "--stage1-name=coreos", f"--uuid-file-save={r.uuid_file(name)}", img))
    uuids = {name: r.wait_uuid(name) for name, (r, _) in procs.items()}
    ips = {name: r.networks(uuids[name])[0]["ip"] for name, (r, _) in procs.items()}
    assert ips["pa"] != ips["pb"], ips
    assert all(ip.startswith("172.16.28.") for ip in ips.values())
    for name, (_, p) in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert f"inet {ips[name]}/24" in out
        assert sorted(leases_of(uuids[name])) == [f"default/{ips[name]}"]
    for r in (a, b):
        r("gc", "--grace-period=0s")
    for u in uuids.values():
        assert leftovers(u) == [] and leases_of(u) == []


def test_one_host_port_is_forwarded_to_one_pod_of_all_data_dirs(two: tuple[Rkt, Rkt]) -> None:
    a, b = two
    host_port = free_port()
    app = {"ports": [{"name": "http", "protocol": "tcp", "port": 8080}]}
    first = a.background("run", "--stage1-name=coreos", f"--port=http:{host_port}",
                         f"--uuid-file-save={a.uuid_file('first')}", a.image("first", ("/bin/sleep", "30"), app=app))
    holder = a.wait_uuid("first")
    a.networks(holder)
    claim = Path(f"/run/rkt/net/ports/tcp-{host_port}")
    for _ in range(300):  # the port is claimed after the pod's addresses are recorded
        if claim.exists():
            break
        time.sleep(0.1)
    assert json.loads(claim.read_text())["uuid"] == holder
    p = b("run", "--stage1-name=coreos", f"--port=http:{host_port}", f"--uuid-file-save={b.uuid_file('second')}",
          b.image("second", ("/bin/true",), app=app), check=False)
    assert p.returncode == 254, p.stderr
    assert f"host port {host_port}/tcp is already forwarded to pod {holder}" in p.stderr
    a("stop", holder)
    first.communicate(timeout=60)
    a("gc", "--grace-period=0s")
    assert not claim.exists()
    assert leftovers(holder) == []
