"""Pod networking at the library level, as root: real namespaces, veths, bridges, taps, iptables.

Every address used is in a namespace made here or on the host's loopback; nothing leaves the
machine. Each test tears its pods down and checks nothing is left.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import rkt.net as net
from rkt.net import ipam, iptables
from rkt_sdk.appc import App, ImageRef, PodManifest, PodPort, Port, RuntimeApp
from tests.support import netstate
from tests.support.http import get_when_up

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello from " + sys.argv[2].encode())
    c.close()
"""
CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(c.recv(100).decode())
"""


class Env:
    """A data dir, a config dir and the pods made in one test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.data = tmp / "data"
        self.cfg = tmp / "cfg"
        self.pods: list[Path] = []
        self.procs: list[subprocess.Popen[str]] = []

    def conf(self, file: str, body: dict[str, object]) -> None:
        (self.cfg / "net.d").mkdir(parents=True, exist_ok=True)
        (self.cfg / "net.d" / file).write_text(json.dumps(body))

    def pod(self, manifest: PodManifest | None = None) -> tuple[Path, str]:
        u = str(uuidlib.uuid4())
        p = self.data / "pods" / "run" / u
        p.mkdir(parents=True)
        if manifest is not None:
            (p / "pod").write_text(manifest.to_json())
        self.pods.append(p)
        return p, u

    def setup(self, flags: list[str], **kw: object) -> tuple[Path, str, Path | None, tuple[net.NetworkAttachment, ...]]:
        manifest = kw.pop("manifest", None)
        pod, u = self.pod(manifest)  # type: ignore[arg-type]
        ns, atts = net.setup(pod_path=pod, uuid=u, spec=net.parse_net_flags(flags), config_dirs=(self.cfg,),
                             data_dir=self.data, manifest=manifest, **kw)  # type: ignore[arg-type]
        return pod, u, ns, atts

    def server(self, netns: str | None, port: int, label: str) -> None:
        cmd = [sys.executable, "-c", SERVER, str(port), label]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"

    def cleanup(self) -> None:
        for p in self.procs:
            p.kill()
            p.wait()
        for pod in self.pods:
            net.teardown(pod, self.data)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    try:
        yield e
    finally:
        e.cleanup()


def in_ns(u: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", f"rkt-{u}", *cmd], capture_output=True, text=True, check=check,
                          timeout=30)


def connect(u: str, ip: str, port: int) -> str:
    return in_ns(u, sys.executable, "-c", CLIENT, ip, str(port)).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def netns_names() -> set[str]:
    try:
        return set(os.listdir("/var/run/netns"))
    except FileNotFoundError:
        return set()


def nat_rules() -> str:
    return subprocess.run(["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True).stdout + \
        subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True).stdout


def assert_nothing_left(env: Env, uuids: list[str]) -> None:
    links = host_links()
    for u in uuids:
        sid = iptables.short_id(u)
        assert f"rkt-{u}" not in netns_names()
        assert not [link for link in links if sid in link]
        assert sid not in nat_rules()
    assert leases_of(uuids, env.tmp / "leases") == []


def chain_exists(table: str, chain: str) -> bool:
    """Whether an iptables chain exists."""
    return subprocess.run(["iptables", "-w", "-t", table, "-S", chain], capture_output=True).returncode == 0


def leases_of(uuids: list[str], *roots: Path) -> list[str]:
    """Lease files (host-wide, and under ``roots``) naming one of the pods (read only: other pods' are left alone)."""
    found = []
    for root in (ipam.DEFAULT_LEASE_ROOT, *roots):
        for d in root.glob("*") if root.is_dir() else ():
            found += [f"{d.name}/{ip}" for ip, u in netstate.leases(d).items() if u in uuids]
    return found


def test_default_network_reaches_other_pod_and_host(env: Env) -> None:
    pod_a, a, ns_a, atts_a = env.setup([])
    _, b, _, atts_b = env.setup(["default"])
    assert ns_a == Path(f"/var/run/netns/rkt-{a}") and f"rkt-{a}" in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True).stdout
    (att_a,), (att_b,) = atts_a, atts_b
    assert att_a.name == "default" and att_a.ifname == "eth0" and att_a.ip4.startswith("172.16.28.")
    assert att_a.prefix_len == 24 and att_a.gateway == "172.16.28.1" and att_a.ip4 != att_b.ip4
    addr = in_ns(a, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
    assert f"inet {att_a.ip4}/24" in addr
    assert in_ns(a, "ip", "route", "show", "default").stdout.startswith("default via 172.16.28.1 dev eth0")
    assert net.format_networks(pod_a) == f"default:ip4={att_a.ip4}"
    assert net.status_networks(pod_a)[0]["mask"] == "255.255.255.0"

    port = free_port()
    env.server(f"rkt-{b}", port, "pod-b")
    assert connect(a, att_b.ip4, port) == "hello from pod-b"
    host_port = free_port()
    env.server(None, host_port, "host")
    assert connect(a, "172.16.28.1", host_port) == "hello from host"
    env.cleanup()
    env.pods, env.procs = [], []
    assert_nothing_left(env, [a, b])


def test_none_has_only_loopback_and_host_is_untouched(env: Env) -> None:
    before = (host_links(), netns_names())
    pod, u, ns, atts = env.setup(["host"])
    assert (ns, atts) == (None, ()) and not (pod / "net").exists() and (host_links(), netns_names()) == before

    pod, u, ns, atts = env.setup(["none"])
    assert atts == () and ns == Path(f"/var/run/netns/rkt-{u}")
    links = in_ns(u, "ip", "-o", "link").stdout.strip().splitlines()
    assert len(links) == 1 and ": lo:" in links[0] and "UP" in links[0]
    assert in_ns(u, "ip", "-4", "route").stdout.strip() == ""
    assert net.format_networks(pod) == ""
    net.teardown(pod, env.data)
    net.teardown(pod, env.data)
    assert f"rkt-{u}" not in netns_names()


def test_two_pods_on_one_bridge_reach_each_other(env: Env) -> None:
    env.conf("10-br.conf", {"name": "br", "type": "bridge", "bridge": "rkttestbr0", "isGateway": True,
                            "ipMasq": True, "mtu": 1400,
                            "ipam": {"type": "host-local", "subnet": "10.231.0.0/24"}})
    _, a, _, atts_a = env.setup(["br"])
    _, b, _, atts_b = env.setup(["br"])
    assert [x.name for x in atts_a] == ["br", "default-restricted"]
    assert atts_a[0].ip4.startswith("10.231.0.") and atts_a[1].ip4.startswith("172.31.")
    assert atts_a[1].ifname == "eth1"
    assert "mtu 1400" in in_ns(a, "ip", "link", "show", "eth0").stdout
    assert set(os.listdir("/sys/class/net/rkttestbr0/brif")) == {f"veth{iptables.short_id(x)}0" for x in (a, b)}
    port = free_port()
    env.server(f"rkt-{b}", port, "b")
    assert connect(a, atts_b[0].ip4, port) == "hello from b"
    env.cleanup()
    env.pods = []
    assert "rkttestbr0" not in host_links()
    assert_nothing_left(env, [a, b])


def test_user_network_with_custom_subnet(env: Env) -> None:
    env.conf("20-custom.conf", {"name": "custom", "type": "ptp",
                                "ipam": {"type": "host-local", "subnet": "10.232.7.0/24", "rangeStart": "10.232.7.50"}})
    env.conf("30-default.conf", {"name": "default", "type": "ptp", "ipMasq": True,
                                 "ipam": {"type": "host-local", "subnet": "10.233.0.0/24",
                                          "routes": [{"dst": "0.0.0.0/0"}]}})
    pod, u, _, atts = env.setup(["custom:IP=10.232.7.77", "default"])
    assert (atts[0].name, atts[0].ifname, atts[0].ip4) == ("custom", "eth0", "10.232.7.77")
    assert atts[1].name == "default" and atts[1].ip4.startswith("10.233.0.")
    assert in_ns(u, "ip", "route", "show", "default").stdout.startswith("default via 10.233.0.1 dev eth1")
    status = net.status_networks(pod)
    assert status[0]["args"] == "IP=10.232.7.77" and status[0]["netConf"].endswith("20-custom.conf")


def test_external_cni_bridge_plugin(env: Env) -> None:
    if not Path("/usr/lib/cni/bridge").exists():
        pytest.skip("CNI plugins not installed")
    env.conf("10-ext.conf", {"cniVersion": "0.4.0", "name": "ext", "type": "bridge", "rktExternal": True,
                             "bridge": "rkttestcni0", "isGateway": True,
                             "ipam": {"type": "host-local", "subnet": "10.234.0.0/24"}})
    try:
        pod, u, _, atts = env.setup(["ext"])
        att = atts[0]
        assert att.name == "ext" and att.ip4.startswith("10.234.0.") and att.gateway == "10.234.0.1"
        assert f"inet {att.ip4}/24" in in_ns(u, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
        assert net.status_networks(pod)[0]["pluginPath"] == "/usr/lib/cni/bridge"
        leases = ipam.DEFAULT_LEASE_ROOT / "ext"  # the plugin's own host-wide default, as the native ones
        assert (leases / att.ip4).exists()
        port = free_port()
        env.server(f"rkt-{u}", port, "ext")
        with socket.create_connection((att.ip4, port), timeout=5) as c:  # from the host through the bridge
            assert c.recv(100) == b"hello from ext"
        env.cleanup()
        env.pods, env.procs = [], []
        assert not (leases / att.ip4).exists()
        assert os.listdir("/sys/class/net/rkttestcni0/brif") == []
        assert_nothing_left(env, [u])
    finally:
        subprocess.run(["ip", "link", "del", "rkttestcni0"], capture_output=True)


def test_failed_setup_is_undone_and_names_the_network(env: Env) -> None:
    env.conf("50-broken.conf", {"name": "broken", "type": "macvlan", "master": "rktnosuchif",
                                "ipam": {"type": "host-local", "subnet": "10.235.0.0/24"}})
    env.conf("60-missing.conf", {"name": "missing", "type": "rkt-no-such-plugin"})
    cases = ((["default,broken"], "'broken'.*rktnosuchif"), (["default,missing"], "'missing'.*not found"))
    for flags, fragment in cases:
        pod, u = env.pod()
        with pytest.raises(net.NetworkError, match=fragment):
            net.setup(pod_path=pod, uuid=u, spec=net.parse_net_flags(flags), config_dirs=(env.cfg,), data_dir=env.data)
        assert_nothing_left(env, [u])


@pytest.mark.parametrize("flags", [[], ["pfbr"], ["pfext"]], ids=["ptp", "bridge", "external-bridge"])
def test_port_forward_from_host_loopback_to_http_server(env: Env, flags: list[str]) -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox not installed")
    env.conf("10-pfbr.conf", {"name": "pfbr", "type": "bridge", "bridge": "rkttestbr3", "isGateway": True,
                              "ipMasq": True, "ipam": {"type": "host-local", "subnet": "10.240.0.0/24"}})
    env.conf("10-pfext.conf", {"name": "pfext", "type": "bridge", "bridge": "rkttestbr4", "isGateway": True,
                               "rktExternal": True, "ipMasq": True,
                               "ipam": {"type": "host-local", "subnet": "10.241.0.0/24"}})
    try:
        _port_forward(env, flags)
    finally:
        subprocess.run(["ip", "link", "del", "rkttestbr4"], capture_output=True)


def _port_forward(env: Env, flags: list[str]) -> None:
    busybox = shutil.which("busybox") or "busybox"
    app = App(exec=("/bin/httpd",), ports=(Port("http", "tcp", 8080),))
    manifest = PodManifest((RuntimeApp("web", ImageRef("example.com/web", "sha512-" + "0" * 64), app),))
    host_port = free_port()
    _, u, _, atts = env.setup(flags, manifest=manifest, ports=(PodPort("http", host_port),))
    assert atts[0].name == (flags or ["default"])[0]
    www = env.tmp / "www"
    www.mkdir()
    (www / "index.html").write_text("served from the pod\n")
    p = subprocess.Popen(["ip", "netns", "exec", f"rkt-{u}", busybox, "httpd", "-f", "-p", "8080", "-h", str(www)])
    env.procs.append(p)  # type: ignore[arg-type]
    body = get_when_up(f"http://127.0.0.1:{host_port}/index.html", tries=50)
    assert body == "served from the pod\n"
    sid = iptables.short_id(u)
    assert chain_exists("nat", f"RKT-{sid}-DNAT")
    with pytest.raises(net.NetworkError, match="no app declares a port named 'nope'"):
        env.setup([], manifest=manifest, ports=(PodPort("nope", free_port()),))
    env.cleanup()
    env.pods, env.procs = [], []
    assert not chain_exists("nat", f"RKT-{sid}-DNAT")
    assert_nothing_left(env, [u])


def test_addresses_held_are_not_reused_and_freed_at_teardown(env: Env) -> None:
    leases = env.tmp / "leases"  # a lease directory of its own: other runs' pods cannot use up the range
    env.conf("10-tiny.conf", {"name": "tiny", "type": "ptp",
                              "ipam": {"type": "host-local", "subnet": "10.236.0.0/29", "dataDir": str(leases)}})
    made = [env.setup(["tiny"]) for _ in range(5)]
    ips = [m[3][0].ip4 for m in made]
    assert len(set(ips)) == 5
    pod, u = env.pod()
    with pytest.raises(net.NetworkError, match="no free address"):
        net.setup(pod_path=pod, uuid=u, spec=net.parse_net_flags(["tiny"]), config_dirs=(env.cfg,), data_dir=env.data)
    net.teardown(made[2][0], env.data)
    assert ips[2] not in netstate.leases(leases / "tiny")
    _, _, _, atts = env.setup(["tiny"])
    assert atts[0].ip4 == ips[2]


def test_teardown_after_the_setting_process_died(env: Env) -> None:
    pod, u = env.pod()
    code = ("import sys, os; from pathlib import Path; import rkt.net as n; "
            f"n.setup(pod_path=Path({str(pod)!r}), uuid={u!r}, spec=n.parse_net_flags([]), "
            f"config_dirs=(Path({str(env.cfg)!r}),), data_dir=Path({str(env.data)!r})); os._exit(9)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert f"rkt-{u}" in netns_names() and f"veth{iptables.short_id(u)}0" in host_links()
    net.teardown(pod, env.data)
    assert_nothing_left(env, [u])


def test_tap_attachment_for_virtual_machines(env: Env) -> None:
    env.conf("10-vmbr.conf", {"name": "vmbr", "type": "bridge", "bridge": "rkttestbr1", "isGateway": True,
                              "ipam": {"type": "host-local", "subnet": "10.237.0.0/24",
                                       "routes": [{"dst": "0.0.0.0/0"}]}})
    pod, u, ns, atts = env.setup(["default,vmbr"], attachment="tap")
    assert ns is None and f"rkt-{u}" not in netns_names()
    sid = iptables.short_id(u)
    (d, b) = sorted(atts, key=lambda x: x.name)
    assert d.ifname in host_links() and d.ifname.startswith(f"tap-{sid}-")
    assert d.mac and d.ip4.startswith("172.16.28.") and d.gateway == "172.16.28.1"
    assert ("0.0.0.0/0", "172.16.28.1") in d.routes
    assert "inet 172.16.28.1/32" in subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", d.ifname],
                                                   capture_output=True, text=True).stdout
    assert b.ifname in os.listdir("/sys/class/net/rkttestbr1/brif") and b.gateway == "10.237.0.1"
    net.teardown(pod, env.data)
    assert "rkttestbr1" not in host_links()
    assert_nothing_left(env, [u])


def test_macvlan_pods_reach_each_other(env: Env) -> None:
    subprocess.run(["ip", "link", "add", "rkttmv0", "type", "veth", "peer", "name", "rkttmv1"], check=True)
    try:
        subprocess.run(["ip", "link", "set", "rkttmv0", "up"], check=True)
        subprocess.run(["ip", "link", "set", "rkttmv1", "up"], check=True)
        env.conf("10-mv.conf", {"name": "mv", "type": "macvlan", "master": "rkttmv0", "mode": "bridge",
                                "ipam": {"type": "host-local", "subnet": "10.238.0.0/24"}})
        _, a, _, _ = env.setup(["mv"])
        _, b, _, atts_b = env.setup(["mv"])
        assert "macvlan" in in_ns(a, "ip", "-d", "link", "show", "eth0").stdout
        port = free_port()
        env.server(f"rkt-{b}", port, "mv-b")
        assert connect(a, atts_b[0].ip4, port) == "hello from mv-b"
        env.cleanup()
        env.pods, env.procs = [], []
        assert_nothing_left(env, [a, b])
    finally:
        subprocess.run(["ip", "link", "del", "rkttmv0"], capture_output=True)


def test_twenty_pods_leave_nothing_behind(env: Env) -> None:
    env.conf("10-br.conf", {"name": "br", "type": "bridge", "bridge": "rkttestbr2", "isGateway": True,
                            "ipam": {"type": "host-local", "subnet": "10.239.0.0/24"}})
    links, names, rules = host_links(), netns_names(), nat_rules()
    uuids = []
    flags: list[Callable[[int], list[str]]] = [lambda i: [], lambda i: ["default,br"], lambda i: ["none"]]
    for i in range(20):
        pod, u, _, _ = env.setup(flags[i % 3](i))
        uuids.append(u)
        net.teardown(pod, env.data)
    env.pods = []
    assert host_links() == links and netns_names() == names and nat_rules() == rules
    assert_nothing_left(env, uuids)


@pytest.mark.parametrize("crash_at", ["rkt.net.ipam.allocate", "rkt.net.links._configure_pod_end",
                                      "rkt.net.iptables.apply"])
def test_teardown_after_a_crash_in_the_middle_of_setup(env: Env, crash_at: str) -> None:
    pod, u = env.pod()
    module, _, func = crash_at.rpartition(".")
    code = ("import importlib, os, sys; from pathlib import Path; import rkt.net as n\n"
            f"m = importlib.import_module({module!r}); real = getattr(m, {func!r})\n"
            "def crash(*a, **k):\n"
            "    real(*a, **k); os._exit(9)\n"
            f"setattr(m, {func!r}, crash)\n"
            f"n.setup(pod_path=Path({str(pod)!r}), uuid={u!r}, spec=n.parse_net_flags([]), "
            f"config_dirs=(Path({str(env.cfg)!r}),), data_dir=Path({str(env.data)!r}))\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert f"rkt-{u}" in netns_names()
    net.teardown(pod, env.data)
    net.teardown(pod, env.data)
    assert_nothing_left(env, [u])


def test_address_of_a_pod_deleted_without_teardown_is_reused_and_its_link_removed(env: Env) -> None:
    """A pod whose directory vanished without a teardown (a data dir wiped) leaves its veth and route;
    the next pod given its address must get it, and the leftover link goes (it once failed: File exists)."""
    leases = env.tmp / "leases"
    env.conf("10-tiny.conf", {"name": "tiny", "type": "ptp",
                              "ipam": {"type": "host-local", "subnet": "10.236.1.0/29", "dataDir": str(leases)}})
    pod_a, a, _, atts_a = env.setup(["tiny:IP=10.236.1.3"])
    left = f"veth{iptables.short_id(a)}0"
    assert left in host_links()
    env.pods.remove(pod_a)
    shutil.rmtree(pod_a)
    _, b, _, atts_b = env.setup(["tiny:IP=10.236.1.3"])
    assert atts_b[0].ip4 == atts_a[0].ip4 == "10.236.1.3"
    assert left not in host_links()
    assert f"rkt-{a}" not in netns_names()
    route = subprocess.run(["ip", "-4", "route", "show", "10.236.1.3/32"], capture_output=True, text=True).stdout
    assert f"veth{iptables.short_id(b)}0" in route


def test_a_stale_route_to_a_leased_address_is_replaced(env: Env) -> None:
    """A host route to the address with no lease behind it (a link someone left) does not block the pod."""
    leases = env.tmp / "leases"
    env.conf("10-tiny.conf", {"name": "tiny", "type": "ptp",
                              "ipam": {"type": "host-local", "subnet": "10.236.2.0/29", "dataDir": str(leases)}})
    subprocess.run(["ip", "link", "add", "rkttestleft0", "type", "veth", "peer", "name", "rkttestleft1"], check=True)
    try:
        subprocess.run(["ip", "link", "set", "rkttestleft0", "up"], check=True)
        subprocess.run(["ip", "route", "add", "10.236.2.4/32", "dev", "rkttestleft0", "scope", "link"], check=True)
        _, b, _, atts = env.setup(["tiny:IP=10.236.2.4"])
        assert atts[0].ip4 == "10.236.2.4"
        route = subprocess.run(["ip", "-4", "route", "show", "10.236.2.4/32"], capture_output=True, text=True).stdout
        assert f"veth{iptables.short_id(b)}0" in route and "rkttestleft0" not in route
    finally:
        subprocess.run(["ip", "link", "del", "rkttestleft0"], check=False)
