"""Native network types, made over rtnetlink (:mod:`rkt.net.rtnl`): ``ptp``, ``bridge`` and ``macvlan``.

Each network gets an IPAM lease (:mod:`rkt.net.ipam`) and one link:

- ``ptp``: a veth pair; the host end carries the gateway address as /32 and a /32 route to the
  pod; the pod reaches its subnet through the gateway (the host forwards).
- ``bridge``: a veth pair whose host end joins the bridge (``bridge``, default ``rkt0``, made
  if missing and removed when rkt made it and its last port goes); ``isGateway`` puts the
  gateway address on the bridge, ``isDefaultGateway`` also routes the pod's default traffic
  through it; ``mtu`` applies to the bridge and veths.
- ``macvlan``: a macvlan of ``master`` (``mode``, default ``bridge``), moved into the pod.

``ipMasq`` adds a masquerade chain for the pod's address (:mod:`rkt.net.iptables`).
With ``tap`` attachment (virtual machines) the pod end is a tap device on the host instead,
joined to the bridge or given the ptp gateway (with proxy ARP); macvlan has no tap form.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import struct
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from rkt.net import ipam, iptables
from rkt.net.conf import NetConf
from rkt.net.errors import NetworkError
from rkt.net.hostlock import locked
from rkt.net.rtnl import SCOPE_LINK, NetlinkError, Rtnl
from rkt.net.spec import NetRequest
from rkt_sdk.types import NetworkAttachment

DEFAULT_BRIDGE = "rkt0"
_TUNSETIFF = 0x400454CA
_TUNSETPERSIST = 0x400454CB
_IFF_TAP = 0x0002
_IFF_NO_PI = 0x1000
_IFA_F_NOPREFIXROUTE = 0x200


def host_if_name(uuid: str, index: int, tap: bool) -> str:
    """The host-side interface of the pod's ``index``-th network (at most 15 characters)."""
    sid = iptables.short_id(uuid)
    return f"tap-{sid}-{index}" if tap else f"veth{sid}{index}"


def _sysctl(key: str, value: str) -> None:
    try:
        with open(f"/proc/sys/{key}", "w") as f:
            f.write(value)
    except OSError as e:
        raise NetworkError(f"sysctl {key}={value}: {e.strerror}") from None


def _mac_from(uuid: str, index: int) -> str:
    h = bytes.fromhex(uuid.replace("-", "")[:8])
    return ":".join(f"{b:02x}" for b in (0x02, 0x72, h[0] ^ h[3], h[1], h[2], index & 0xFF))


def _make_tap(name: str) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH22x", name.encode(), _IFF_TAP | _IFF_NO_PI))
        fcntl.ioctl(fd, _TUNSETPERSIST, 1)
    except OSError as e:
        raise NetworkError(f"tap device {name}: {e.strerror}") from None
    finally:
        os.close(fd)


#: Host-wide state of links shared by every data directory: the lock serialising bridge creation
#: and removal, and a marker per bridge rkt made (so only those are removed). Under /run: bridges
#: do not survive a reboot either.
HOST_LINKS_DIR = Path("/run/rkt/net")


def _links_lock() -> AbstractContextManager[None]:
    """Serialise bridge creation/removal between rkt processes of every data directory."""
    return locked(HOST_LINKS_DIR, "links.lock")


def _bridge_markers(name: str, data_dir: Path) -> tuple[Path, Path]:
    """The host-wide marker of a bridge rkt made, and where a data directory kept it before."""
    return HOST_LINKS_DIR / "bridges" / name, data_dir / "net" / "bridges" / name


def _int(conf: NetConf, key: str, default: int = 0) -> int:
    v = conf.raw.get(key, default)
    if not isinstance(v, int) or v < 0:
        raise NetworkError(f"network {conf.name!r}: {key} must be a non-negative integer")
    return v


def setup(conf: NetConf, req: NetRequest, entry: dict[str, Any], *, index: int, netns: Path | None, uuid: str,
          pod_path: Path, data_dir: Path, save: Callable[[], None]) -> NetworkAttachment:
    """Attach the pod to a native network; ``entry`` (saved by ``save``) records each step first.

    :raises NetworkError: bad configuration or a refused kernel operation.
    """
    try:
        return _setup(conf, req, entry, index=index, netns=netns, uuid=uuid, pod_path=pod_path,
                      data_dir=data_dir, save=save)
    except NetlinkError as e:
        raise NetworkError(f"network {conf.name!r}: {e.args[1] if len(e.args) > 1 else e}") from None


def _setup(conf: NetConf, req: NetRequest, entry: dict[str, Any], *, index: int, netns: Path | None, uuid: str,
           pod_path: Path, data_dir: Path, save: Callable[[], None]) -> NetworkAttachment:
    tap = netns is None
    ifname = entry["ifName"]
    mtu = _int(conf, "mtu")
    if conf.type == "macvlan":
        if tap:
            raise NetworkError(f"network {conf.name!r}: macvlan cannot be attached to a virtual machine's tap")
        master = conf.raw.get("master")
        if not isinstance(master, str) or not master:
            raise NetworkError(f'network {conf.name!r}: macvlan needs a "master" interface')
    is_gw = bool(conf.raw.get("isGateway") or conf.raw.get("isDefaultGateway"))

    entry["lease"] = conf.name
    entry["leaseDir"] = str(ipam.lease_dir(conf.name, conf.raw["ipam"]))
    save()
    host_if = host_if_name(uuid, index, tap)
    if conf.type == "macvlan":
        host_if = f"mv{iptables.short_id(uuid)}{index}"
    lease = ipam.allocate(conf.name, conf.raw["ipam"], uuid=uuid, pod=pod_path, ifname=ifname,
                          want=dict(req.args).get("IP", ""), host_if=host_if if conf.type != "macvlan" else "",
                          reclaim=remove_left_links)
    routes = list(lease.routes)
    if conf.type == "bridge" and conf.raw.get("isDefaultGateway") and not any(d == "0.0.0.0/0" for d, _ in routes):
        routes.append(("0.0.0.0/0", lease.gateway))
    subnet = str(ipaddress.IPv4Network(f"{lease.ip}/{lease.prefix_len}", strict=False))
    entry.update(ip=lease.ip, prefixLen=lease.prefix_len, gateway=lease.gateway, routes=routes, subnet=subnet)
    entry["hostIf"] = host_if
    if conf.type == "bridge":
        entry["bridge"] = str(conf.raw.get("bridge") or DEFAULT_BRIDGE)
    save()
    if conf.type in ("ptp", "bridge"):
        _sysctl("net/ipv4/ip_forward", "1")
    _make_links(conf, entry, lease, host_if, ifname, tap=tap, netns=netns, mtu=mtu, is_gw=is_gw)
    mac = ""
    if tap:
        mac = _mac_from(uuid, index)
    else:
        assert netns is not None
        _configure_pod_end(netns, ifname, lease.ip, lease.prefix_len, lease.gateway, routes,
                           ptp=conf.type == "ptp", subnet=subnet)
    if conf.raw.get("ipMasq"):
        rs = iptables.masquerade(uuid, index, conf.name, lease.ip, subnet)
        entry.setdefault("iptables", []).append(rs.to_dict())
        save()
        iptables.apply(rs, f"network {conf.name!r}: ipMasq")
    entry["mac"] = mac
    return NetworkAttachment(conf.name, host_if if tap else ifname, lease.ip, lease.prefix_len,
                             lease.gateway if (conf.type == "ptp" or is_gw) else "", mac, tuple(routes))


def _make_links(conf: NetConf, entry: dict[str, Any], lease: ipam.Lease, host_if: str, ifname: str, *, tap: bool,
                netns: Path | None, mtu: int, is_gw: bool) -> None:
    """Make the host's end of the pod's link (veth, tap or macvlan) and move the pod's end into its namespace."""
    with Rtnl() as ipr:
        br_idx = 0
        if conf.type == "bridge":
            with _links_lock():
                br_idx = _ensure_bridge(ipr, entry["bridge"], mtu,
                                        f"{lease.gateway}/{lease.prefix_len}" if is_gw else "")
                _make_host_end(ipr, host_if, ifname, tap, netns, mtu, master=br_idx)
        elif conf.type == "ptp":
            _make_host_end(ipr, host_if, ifname, tap, netns, mtu)
            idx = _index(ipr, host_if)
            ipr.add_addr(idx, lease.gateway, 32)
            # The address is this pod's now (its lease is held): a route to it left by a link nobody
            # tore down (its lease gone with it) is stale, and this one takes its place.
            ipr.add_route(f"{lease.ip}/32", oif=idx, scope=SCOPE_LINK, replace=True)
            if tap:
                _sysctl(f"net/ipv4/conf/{host_if}/proxy_arp", "1")
        else:
            master_idx = ipr.link_index(conf.raw["master"])
            if master_idx is None:
                raise NetworkError(f"network {conf.name!r}: master interface {conf.raw['master']!r} not found")
            ipr.add_macvlan(host_if, master_idx, str(conf.raw.get("mode", "bridge")), mtu=mtu)
            assert netns is not None
            nsfd = os.open(netns, os.O_RDONLY)
            try:
                ipr.set_link(_index(ipr, host_if), netns_fd=nsfd, name=ifname)
            finally:
                os.close(nsfd)


def _index(ipr: Rtnl, name: str) -> int:
    idx = ipr.link_index(name)
    if idx is None:
        raise NetworkError(f"link {name}: not found after it was made")
    return idx


def _ensure_bridge(ipr: Rtnl, name: str, mtu: int, gw_cidr: str) -> int:
    idx = ipr.link_index(name)
    if idx is None:
        marker = HOST_LINKS_DIR / "bridges" / name
        marker.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        marker.touch()
        ipr.add_bridge(name, mtu=mtu)
        idx = _index(ipr, name)
    ipr.set_link(idx, up=True)
    if gw_cidr:
        addr, plen = gw_cidr.split("/")
        if addr not in ipr.addrs(idx):
            ipr.add_addr(idx, addr, int(plen))
    return idx


def _make_host_end(ipr: Rtnl, host_if: str, ifname: str, tap: bool, netns: Path | None, mtu: int,
                   master: int = 0) -> None:
    if tap:
        _make_tap(host_if)
    else:
        assert netns is not None
        nsfd = os.open(netns, os.O_RDONLY)
        try:
            ipr.add_veth(host_if, ifname, nsfd, mtu=mtu)
        finally:
            os.close(nsfd)
    ipr.set_link(_index(ipr, host_if), up=True, master=master, mtu=mtu)


def _configure_pod_end(netns: Path, ifname: str, ip: str, prefix_len: int, gateway: str,
                       routes: list[tuple[str, str]], *, ptp: bool, subnet: str) -> None:
    with Rtnl(netns) as ns:
        idx = _index(ns, ifname)
        ns.set_link(idx, up=True)
        if ptp:
            ns.add_addr(idx, ip, prefix_len, flags=_IFA_F_NOPREFIXROUTE)
            ns.add_route(f"{gateway}/32", oif=idx, scope=SCOPE_LINK)
            ns.add_route(subnet, gateway=gateway, oif=idx)
        else:
            ns.add_addr(idx, ip, prefix_len)
        for dst, gw in routes:
            if dst == subnet and ptp:
                continue
            ns.add_route(dst, gateway=gw, oif=idx)


def remove_left_links(lease: dict[str, Any]) -> None:
    """Remove what a pod gone from disk without a teardown left on the host, given its lease record.

    The host end of its link goes (a veth takes its peer and its route to the address with it),
    and its named network namespace; older records without ``hostIf`` name no link, so the
    names the pod's first networks would have had are tried.
    """
    uuid = str(lease.get("uuid") or "")
    if not uuid:
        return
    names = [str(lease["hostIf"])] if lease.get("hostIf") else \
        [host_if_name(uuid, i, tap) for i in range(4) for tap in (False, True)]
    with Rtnl() as ipr:
        for name in names:
            ipr.del_link_named(name)
    from rkt.net import netns

    netns.remove(netns.path_for(uuid))


def teardown(entry: dict[str, Any], data_dir: Path, uuid: str) -> None:
    """Undo :func:`setup` from its saved entry; steps already undone are skipped."""
    for rs in entry.get("iptables", []):
        iptables.remove(iptables.RuleSet.from_dict(rs))
    host_if = entry.get("hostIf")
    bridge = entry.get("bridge")
    if host_if or bridge:
        with Rtnl() as ipr:
            if host_if:
                ipr.del_link_named(host_if)
            if bridge:
                with _links_lock():
                    markers = [m for m in _bridge_markers(bridge, data_dir) if m.exists()]
                    ports = Path("/sys/class/net") / bridge / "brif"
                    if markers and (not ports.is_dir() or not os.listdir(ports)):
                        ipr.del_link_named(bridge)
                        for m in markers:
                            m.unlink(missing_ok=True)
    if entry.get("lease"):
        net = str(entry["lease"])
        d = Path(entry["leaseDir"]) if entry.get("leaseDir") else ipam.legacy_lease_dir(data_dir, net)
        ipam.release(d, uuid, str(entry.get("ifName", "")))
