"""Native ``host-local`` IPAM: IPv4 leases kept as files, one per address, under a flock.

Addresses are a host-wide resource: two data directories (``rkt --dir``) attach their pods to
the same host interfaces, so leases live in one directory per network for the whole host, as
CNI's host-local plugin keeps them: ``/var/lib/cni/networks/<network>/``, or
``<dataDir>/<network>/`` when the network's ``ipam`` section sets ``dataDir``.

Layout of a lease directory: ``lock`` (flock held while allocating or releasing), ``last``
(last address handed out: allocation goes round-robin from there, so a freed address is not
reused at once) and one file per leased address holding ``{"uuid", "pod", "ifName", "hostIf"}``,
``pod`` being the pod directory (``<data dir>/pods/<state>/<uuid>``) when the lease was taken and
``hostIf`` the host end of the pod's link. A new
lease file is linked into place, so it never replaces a file another allocator made in the
meantime. Leases survive crashes; a lease is released by its pod's teardown, and is taken over
only when its pod is gone from disk: neither its directory nor a directory of the same UUID
in another state directory of its data directory exists (the pod was deleted without a
teardown). Taking a lease over first hands its record to the caller's ``reclaim``, which removes
what the vanished pod left on the host (its link, and with it the link's route to the address).
A file that is not such a record (another allocator's) is never taken over.

Configuration keys (CNI host-local): ``subnet``, ``rangeStart``, ``rangeEnd``, ``gateway``,
``routes`` (``[{"dst": CIDR, "gw": IP}]``), ``dataDir``, or the first IPv4 entry of ``ranges``;
the ``IP=<addr>`` argument of ``--net`` asks for a given address.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rkt.net.errors import NetworkError
from rkt.net.hostlock import locked

#: Where leases live when a network's ipam section sets no ``dataDir`` (CNI host-local's default).
DEFAULT_LEASE_ROOT = Path("/var/lib/cni/networks")
_NOT_LEASES = ("lock", "last")


@dataclass(frozen=True)
class Lease:
    """An address handed to one pod interface, with what the pod needs to configure it."""

    ip: str
    prefix_len: int
    gateway: str
    routes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pool:
    """The parsed ``ipam`` section: the subnet, the allocatable range, the gateway and routes."""

    subnet: ipaddress.IPv4Network
    start: ipaddress.IPv4Address
    end: ipaddress.IPv4Address
    gateway: ipaddress.IPv4Address
    routes: tuple[tuple[str, str], ...]

    @classmethod
    def from_conf(cls, net: str, ipam: dict[str, Any]) -> Pool:
        where = f"network {net!r}: ipam"
        rng: dict[str, Any] = ipam
        if "subnet" not in ipam and isinstance(ipam.get("ranges"), list):
            flat = [r for rs in ipam["ranges"] if isinstance(rs, list) for r in rs if isinstance(r, dict)]
            v4 = [r for r in flat if ":" not in str(r.get("subnet", ":"))]
            if not v4:
                raise NetworkError(f"{where}: no IPv4 subnet in ranges")
            rng = v4[0]
        try:
            subnet = ipaddress.ip_network(str(rng.get("subnet", "")), strict=False)
        except ValueError:
            raise NetworkError(f"{where}: bad or missing subnet {rng.get('subnet')!r}") from None
        if not isinstance(subnet, ipaddress.IPv4Network):
            raise NetworkError(f'{where}: native host-local does IPv4 only; set "rktExternal": true for {subnet}')
        if subnet.num_addresses < 4:
            raise NetworkError(f"{where}: subnet {subnet} is too small")

        def addr(key: str, default: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
            v = rng.get(key)
            if v is None:
                return default
            try:
                a = ipaddress.IPv4Address(str(v))
            except ValueError:
                raise NetworkError(f"{where}: bad {key} {v!r}") from None
            if a not in subnet:
                raise NetworkError(f"{where}: {key} {a} is outside subnet {subnet}")
            return a

        gateway = addr("gateway", subnet.network_address + 1)
        start = addr("rangeStart", subnet.network_address + 1)
        end = addr("rangeEnd", subnet.broadcast_address - 1)
        if start > end:
            raise NetworkError(f"{where}: rangeStart {start} is after rangeEnd {end}")
        routes: list[tuple[str, str]] = []
        for r in ipam.get("routes") or []:
            try:
                dst = str(ipaddress.IPv4Network(str(r["dst"]), strict=False))
                gw = str(ipaddress.IPv4Address(str(r["gw"]))) if r.get("gw") else str(gateway)
            except (KeyError, TypeError, ValueError):
                raise NetworkError(f"{where}: bad route {r!r}") from None
            routes.append((dst, gw))
        return cls(subnet, start, end, gateway, tuple(routes))


def lease_dir(net: str, ipam: dict[str, Any]) -> Path:
    """The host-wide lease directory of a network (see the module doc).

    :raises NetworkError: ``dataDir`` is set but is not an absolute path.
    """
    root = ipam.get("dataDir")
    if root is None:
        return DEFAULT_LEASE_ROOT / net
    if not isinstance(root, str) or not os.path.isabs(root):
        raise NetworkError(f"network {net!r}: ipam dataDir {root!r} must be an absolute path")
    return Path(root) / net


def legacy_lease_dir(data_dir: Path, net: str) -> Path:
    """Where leases were kept per data directory before they became host-wide (released from there too)."""
    return data_dir / "net" / "ipam" / net


def read_record(path: Path) -> dict[str, Any] | None:
    """A JSON record file (a lease, a port claim); None when the file is gone, ``{}`` when it is not one of ours."""
    try:
        info = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def pod_exists(uuid: str, pod: str) -> bool:
    """Whether the pod recorded in a lease is still on disk, in any state directory of its data dir."""
    if not uuid or not pod:
        return True  # cannot tell: keep the lease
    if os.path.isdir(pod):
        return True
    pods = os.path.dirname(os.path.dirname(pod))
    try:
        states = os.listdir(pods)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return any(os.path.isdir(os.path.join(pods, st, uuid)) for st in states)


def _held(lease: Path) -> bool:
    info = read_record(lease)
    if info is None:
        return False
    if not info.get("uuid"):
        return True  # not ours to judge: never hand it out twice
    return pod_exists(str(info["uuid"]), str(info.get("pod", "")))


def _claim(d: Path, ip: str, record: str, *, replace: bool) -> bool:
    """Write the lease file of ``ip``; without ``replace`` only if no file is there (False if one is)."""
    tmp = d / f".{ip}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, record.encode())
    finally:
        os.close(fd)
    try:
        if replace:
            os.rename(tmp, d / ip)
            return True
        try:
            os.link(tmp, d / ip)
        except FileExistsError:
            return False
        return True
    finally:
        if not replace:
            os.unlink(tmp)


def allocate(net: str, ipam: dict[str, Any], *, uuid: str, pod: Path, ifname: str, want: str = "",
             host_if: str = "", reclaim: Callable[[dict[str, Any]], None] | None = None) -> Lease:
    """Lease an address of the network to the pod's interface (``want``: a given address).

    ``host_if`` (the host end of the pod's link) is kept in the lease; ``reclaim`` gets the record
    of a lease taken over from a pod gone from disk, under the lease lock, before the address is
    handed out again.

    :raises NetworkError: the range is exhausted, or ``want`` is taken or out of range.
    """
    pool = Pool.from_conf(net, ipam)
    d = lease_dir(net, ipam)
    record = json.dumps({"uuid": uuid, "pod": str(pod), "ifName": ifname, **({"hostIf": host_if} if host_if else {})})
    record += "\n"
    with locked(d):
        if want:
            try:
                ip = ipaddress.IPv4Address(want)
            except ValueError:
                raise NetworkError(f"network {net!r}: bad IP argument {want!r}") from None
            if not pool.start <= ip <= pool.end or ip == pool.gateway:
                raise NetworkError(f"network {net!r}: requested IP {ip} is outside {pool.start}-{pool.end}")
            if _held(d / str(ip)):
                raise NetworkError(f"network {net!r}: requested IP {ip} is in use")
            candidates: Iterator[ipaddress.IPv4Address] = iter([ip])
        else:
            candidates = _round_robin(pool, d)
        for ip in candidates:
            if ip == pool.gateway or ip == pool.subnet.network_address or ip == pool.subnet.broadcast_address:
                continue
            lease = d / str(ip)
            stale = lease.exists()
            if stale and _held(lease):
                continue
            if stale and reclaim is not None:
                reclaim(read_record(lease) or {})
            if not _claim(d, str(ip), record, replace=stale):
                continue
            tmp_last = d / f".last.tmp{os.getpid()}"
            tmp_last.write_text(f"{ip}\n")
            os.rename(tmp_last, d / "last")
            return Lease(str(ip), pool.subnet.prefixlen, str(pool.gateway), pool.routes)
    raise NetworkError(f"network {net!r}: no free address left in {pool.start}-{pool.end}")


def _round_robin(pool: Pool, d: Path) -> Iterator[ipaddress.IPv4Address]:
    first, last = int(pool.start), int(pool.end)
    try:
        after = int(ipaddress.IPv4Address((d / "last").read_text().strip()))
    except (FileNotFoundError, ValueError):
        after = first - 1
    if not first <= after <= last:
        after = first - 1
    size = last - first + 1
    for i in range(size):
        yield ipaddress.IPv4Address(first + (after - first + 1 + i) % size)


def release(d: Path, uuid: str, ifname: str = "") -> None:
    """Drop the pod's lease(s) in lease directory ``d``; nothing happens if it holds none."""
    if not d.is_dir():
        return
    with locked(d):
        for name in os.listdir(d):
            if name in _NOT_LEASES or name.startswith("."):
                continue
            info = read_record(d / name)
            if info and info.get("uuid") == uuid and (not ifname or info.get("ifName") == ifname):
                try:
                    os.unlink(d / name)
                except FileNotFoundError:
                    pass
