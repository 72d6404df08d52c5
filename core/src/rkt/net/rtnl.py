"""A small rtnetlink client: the link, address and route requests rkt's native networks make.

Only the standard library: a pod's network costs a netlink socket, not a netlink library's
import (which took most of a contained ``rkt run``'s time). :class:`Rtnl` talks to the
network namespace it was opened in, the host's or, given a path, a pod's: the socket is
made by a thread that joined that namespace, and stays bound to it.
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

_RTM_NEWLINK, _RTM_DELLINK, _RTM_GETLINK = 16, 17, 18
_RTM_NEWADDR, _RTM_GETADDR = 20, 22
_RTM_NEWROUTE, _RTM_GETROUTE = 24, 26
_NLM_F_REQUEST, _NLM_F_ACK, _NLM_F_EXCL, _NLM_F_CREATE, _NLM_F_DUMP = 0x1, 0x4, 0x200, 0x400, 0x300
_NLM_F_REPLACE = 0x100
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_IFLA_ADDRESS, _IFLA_IFNAME, _IFLA_MTU, _IFLA_LINK, _IFLA_MASTER = 1, 3, 4, 5, 10
_IFLA_LINKINFO, _IFLA_NET_NS_FD = 18, 28
_IFLA_INFO_KIND, _IFLA_INFO_DATA, _VETH_INFO_PEER, _IFLA_MACVLAN_MODE = 1, 2, 1, 1
_NLA_F_NESTED = 0x8000
_IFA_ADDRESS, _IFA_LOCAL, _IFA_FLAGS = 1, 2, 8
_RTA_DST, _RTA_OIF, _RTA_GATEWAY = 1, 4, 5
_RT_TABLE_MAIN, _RTPROT_BOOT, _RTN_UNICAST = 254, 3, 1
_IFF_UP = 0x1
_CLONE_NEWNET = 0x40000000
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}
#: route scopes
SCOPE_UNIVERSE, SCOPE_LINK = 0, 253


class NetlinkError(OSError):
    """The kernel refused a request (``errno`` says why)."""


def _attr(kind: int, data: bytes) -> bytes:
    head = struct.pack("=HH", 4 + len(data), kind)
    return head + data + b"\0" * (-len(data) % 4)


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack("=I", value))


def _name(kind: int, name: str) -> bytes:
    return _attr(kind, name.encode() + b"\0")


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def _attrs(data: bytes) -> Iterator[tuple[int, bytes]]:
    off = 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            return
        yield kind & 0x3FFF, data[off + 4:off + length]
        off += (length + 3) & ~3


def _in_namespace(netns: Path) -> socket.socket:
    """A netlink socket of the network namespace at ``netns`` (made by a thread that joined it)."""
    import threading

    libc = ctypes.CDLL(None, use_errno=True)
    made: list[socket.socket] = []
    failure: list[OSError] = []

    def make() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            failure.append(e)
            return
        try:
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                failure.append(NetlinkError(err, f"setns {netns}: {os.strerror(err)}"))
                return
            made.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0))
        finally:
            os.close(fd)

    t = threading.Thread(target=make, name="rkt-rtnl")
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return made[0]


class Rtnl:
    """An rtnetlink socket in the host's network namespace, or in the one at ``netns``; a context manager."""

    def __init__(self, netns: Path | None = None) -> None:
        if netns is None:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
        else:
            self.sock = _in_namespace(netns)
        self.sock.bind((0, 0))
        self.seq = 0

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def _request(self, kind: int, flags: int, body: bytes) -> list[tuple[int, bytes]]:
        """Send one request; return the answering messages (type, payload), or raise the kernel's error."""
        self.seq += 1
        seq = self.seq
        self.sock.send(struct.pack("=LHHLL", 16 + len(body), kind, _NLM_F_REQUEST | flags, seq, 0) + body)
        out: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, mtype, _, mseq, _ = struct.unpack_from("=LHHLL", data, off)
                payload = data[off + 16:off + length]
                off += (length + 3) & ~3
                if mseq != seq:
                    continue
                if mtype == _NLMSG_ERROR:
                    err = -struct.unpack_from("=i", payload)[0]
                    if err:
                        raise NetlinkError(err, os.strerror(err))
                    return out
                if mtype == _NLMSG_DONE:
                    return out
                out.append((mtype, payload))
                if not flags & _NLM_F_DUMP and not flags & _NLM_F_ACK:
                    return out

    # links

    def link_index(self, name: str) -> int | None:
        """The index of the link called ``name``, or None."""
        try:
            msgs = self._request(_RTM_GETLINK, 0, _ifinfo() + _name(_IFLA_IFNAME, name))
        except NetlinkError as e:
            if e.errno == 19:  # ENODEV
                return None
            raise
        for _, payload in msgs:
            return int(struct.unpack_from("=BxHiII", payload)[2])
        return None

    def link_name(self, index: int) -> str | None:
        """The name of the link with that index, or None."""
        try:
            msgs = self._request(_RTM_GETLINK, 0, _ifinfo(index))
        except NetlinkError:
            return None
        for _, payload in msgs:
            for kind, value in _attrs(payload[16:]):
                if kind == _IFLA_IFNAME:
                    return value.rstrip(b"\0").decode()
        return None

    def _new_link(self, name: str, kind: bytes, data: bytes = b"", *, mtu: int = 0, link: int = 0) -> None:
        info = _attr(_IFLA_INFO_KIND, kind) + (_attr(_IFLA_INFO_DATA | _NLA_F_NESTED, data) if data else b"")
        body = _ifinfo() + _name(_IFLA_IFNAME, name) + _attr(_IFLA_LINKINFO | _NLA_F_NESTED, info)
        if mtu:
            body += _u32(_IFLA_MTU, mtu)
        if link:
            body += _u32(_IFLA_LINK, link)
        self._request(_RTM_NEWLINK, _NLM_F_ACK | _NLM_F_CREATE | _NLM_F_EXCL, body)

    def add_bridge(self, name: str, *, mtu: int = 0) -> None:
        """Create a bridge."""
        self._new_link(name, b"bridge", mtu=mtu)

    def add_veth(self, name: str, peer: str, peer_netns_fd: int, *, mtu: int = 0) -> None:
        """Create a veth pair: ``name`` here, ``peer`` in the namespace open at ``peer_netns_fd``."""
        peer_msg = _ifinfo() + _name(_IFLA_IFNAME, peer) + _u32(_IFLA_NET_NS_FD, peer_netns_fd)
        if mtu:
            peer_msg += _u32(_IFLA_MTU, mtu)
        self._new_link(name, b"veth", _attr(_VETH_INFO_PEER | _NLA_F_NESTED, peer_msg), mtu=mtu)

    def add_macvlan(self, name: str, master: int, mode: str, *, mtu: int = 0) -> None:
        """Create a macvlan link on ``master`` in ``mode`` (``bridge``, ``private``, ``vepa``, ``passthru``)."""
        if mode not in MACVLAN_MODES:
            raise NetlinkError(22, f"macvlan mode {mode!r} unknown (want one of {', '.join(MACVLAN_MODES)})")
        self._new_link(name, b"macvlan", _u32(_IFLA_MACVLAN_MODE, MACVLAN_MODES[mode]), mtu=mtu, link=master)

    def set_link(self, index: int, *, up: bool = False, master: int = 0, mtu: int = 0, netns_fd: int = -1,
                 name: str = "") -> None:
        """Change a link: bring it up, enslave it to ``master``, set its MTU, move it (and rename it)."""
        body = _ifinfo(index, _IFF_UP if up else 0, _IFF_UP if up else 0)
        if master:
            body += _u32(_IFLA_MASTER, master)
        if mtu:
            body += _u32(_IFLA_MTU, mtu)
        if netns_fd >= 0:
            body += _u32(_IFLA_NET_NS_FD, netns_fd)
        if name:
            body += _name(_IFLA_IFNAME, name)
        self._request(_RTM_NEWLINK, _NLM_F_ACK, body)

    def del_link(self, index: int) -> None:
        """Delete a link."""
        self._request(_RTM_DELLINK, _NLM_F_ACK, _ifinfo(index))

    def del_link_named(self, name: str) -> None:
        """Delete the link called ``name`` if there is one (a link already gone is not an error)."""
        idx = self.link_index(name)
        if idx is None:
            return
        try:
            self.del_link(idx)
        except NetlinkError as e:
            if e.errno != 19:  # ENODEV: gone meanwhile
                raise

    # addresses and routes

    def add_addr(self, index: int, ip: str, prefix_len: int, *, flags: int = 0) -> None:
        """Give link ``index`` the IPv4 address ``ip/prefix_len`` (``flags``: IFA_F_* bits)."""
        raw = socket.inet_aton(ip)
        body = struct.pack("=BBBBI", socket.AF_INET, prefix_len, 0, 0, index)
        body += _attr(_IFA_LOCAL, raw) + _attr(_IFA_ADDRESS, raw)
        if flags:
            body += _u32(_IFA_FLAGS, flags)
        self._request(_RTM_NEWADDR, _NLM_F_ACK | _NLM_F_CREATE | _NLM_F_EXCL, body)

    def addrs(self, index: int) -> set[str]:
        """The IPv4 addresses of link ``index``."""
        found: set[str] = set()
        for _, payload in self._request(_RTM_GETADDR, _NLM_F_DUMP, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)):
            if struct.unpack_from("=BBBBI", payload)[4] != index:
                continue
            for kind, value in _attrs(payload[8:]):
                if kind == _IFA_ADDRESS and len(value) == 4:
                    found.add(socket.inet_ntoa(value))
        return found

    def add_route(self, dst: str, *, oif: int, gateway: str = "", scope: int = SCOPE_UNIVERSE,
                  replace: bool = False) -> None:
        """Add an IPv4 route to ``dst`` (CIDR) out of link ``oif``, through ``gateway`` if given.

        With ``replace``, a route to the same destination takes this one's place instead of
        making the request fail with EEXIST.
        """
        net, _, plen = dst.partition("/")
        dst_len = int(plen or 32)
        body = struct.pack("=BBBBBBBBI", socket.AF_INET, dst_len, 0, 0, _RT_TABLE_MAIN, _RTPROT_BOOT, scope,
                           _RTN_UNICAST, 0)
        if dst_len:
            body += _attr(_RTA_DST, socket.inet_aton(net))
        body += _u32(_RTA_OIF, oif)
        if gateway:
            body += _attr(_RTA_GATEWAY, socket.inet_aton(gateway))
        self._request(_RTM_NEWROUTE, _NLM_F_ACK | _NLM_F_CREATE | (_NLM_F_REPLACE if replace else _NLM_F_EXCL), body)

    def route_oif(self, ip: str) -> int | None:
        """The index of the link the route to ``ip`` goes out of, or None."""
        body = struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 0, 0, 0, 0, 0, 0, 0) + _attr(_RTA_DST,
                                                                                         socket.inet_aton(ip))
        try:
            msgs = self._request(_RTM_GETROUTE, 0, body)
        except NetlinkError:
            return None
        for _, payload in msgs:
            for kind, value in _attrs(payload[12:]):
                if kind == _RTA_OIF:
                    return int(struct.unpack("=I", value)[0])
        return None
