"""The rtnetlink client against the kernel: a veth pair into a namespace of the test's own, addressed and
routed from both sides, the kernel's refusals as NetlinkError, and nothing left after.
"""

from __future__ import annotations

import errno
import os
import subprocess
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from rkt.net import netns
from rkt.net.rtnl import SCOPE_LINK, NetlinkError, Rtnl

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def ns() -> Iterator[Path]:
    path = netns.path_for(str(uuidlib.uuid4()))
    netns.create(path)
    try:
        yield path
    finally:
        netns.remove(path)


def in_ns(path: Path, *argv: str) -> str:
    return subprocess.run(["nsenter", f"--net={path}", *argv], capture_output=True, text=True, check=True).stdout


def test_veth_into_a_namespace_addressed_and_routed(ns: Path) -> None:
    host_if = f"vt{uuidlib.uuid4().hex[:8]}"
    fd = os.open(ns, os.O_RDONLY)
    try:
        with Rtnl() as host:
            host.add_veth(host_if, "eth7", fd, mtu=1400)
            idx = host.link_index(host_if)
            assert idx is not None and host.link_name(idx) == host_if
            host.set_link(idx, up=True)
            host.add_addr(idx, "10.213.0.1", 32)
            host.add_route("10.213.0.2/32", oif=idx, scope=SCOPE_LINK)
            assert "10.213.0.1" in host.addrs(idx)
            assert host.route_oif("10.213.0.2") == idx
            with pytest.raises(NetlinkError) as e:
                host.add_veth(host_if, "eth8", fd)
            assert e.value.errno == errno.EEXIST
        with Rtnl(ns) as pod:
            pidx = pod.link_index("eth7")
            assert pidx is not None
            pod.set_link(pidx, up=True)
            pod.add_addr(pidx, "10.213.0.2", 24)
            pod.add_route("0.0.0.0/0", oif=pidx, gateway="10.213.0.1")
        assert "inet 10.213.0.2/24" in in_ns(ns, "ip", "-4", "addr", "show", "eth7")
        assert "mtu 1400" in in_ns(ns, "ip", "link", "show", "eth7")
        assert "default via 10.213.0.1 dev eth7" in in_ns(ns, "ip", "route")
        assert " 0% packet loss" in in_ns(ns, "busybox", "ping", "-c1", "-W2", "10.213.0.1")
    finally:
        os.close(fd)
        with Rtnl() as host:
            idx = host.link_index(host_if)
            if idx is not None:
                host.del_link(idx)
            assert host.link_index(host_if) is None


def test_bridge_and_refusals() -> None:
    name = f"br{uuidlib.uuid4().hex[:8]}"
    with Rtnl() as host:
        assert host.link_index(name) is None
        host.add_bridge(name)
        idx = host.link_index(name)
        assert idx is not None
        try:
            host.set_link(idx, up=True)
            assert Path(f"/sys/class/net/{name}/bridge").is_dir()
            with pytest.raises(NetlinkError, match="macvlan mode 'sideways' unknown"):
                host.add_macvlan(f"mv{name}", idx, "sideways")
            with pytest.raises(NetlinkError) as e:
                host.set_link(2**31 - 1, up=True)
            assert e.value.errno == errno.ENODEV
        finally:
            host.del_link(idx)
        assert host.link_index(name) is None
