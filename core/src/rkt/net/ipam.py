"""Native ``host-local`` IPAM: IPv4 leases kept as files, one per address, under a flock.

Layout under ``<data dir>/net/ipam/<network>/``: ``lock`` (flock held while allocating or
releasing), ``last`` (last address handed out: allocation goes round-robin from there, so a
freed address is not reused at once) and one file per leased address holding
``{"uuid", "pod", "ifName"}``. Leases survive crashes; a lease is released by its pod's
teardown, and is taken over only when its pod directory is gone from disk (the pod was deleted
without a teardown).

Configuration keys (CNI host-local): ``subnet``, ``rangeStart``, ``rangeEnd``, ``gateway``,
``routes`` (``[{"dst": CIDR, "gw": IP}]``), or the first IPv4 entry of ``ranges``; the
``IP=<addr>`` argument of ``--net`` asks for a given address.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rkt.net.errors import NetworkError
from rkt_sdk.poddir import write_atomic


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


def lease_dir(data_dir: Path, net: str) -> Path:
    return data_dir / "net" / "ipam" / net


@contextmanager
def _locked(d: Path) -> Iterator[None]:
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(d / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _holder_alive(data_dir: Path, lease: Path) -> bool:
    try:
        info = json.loads(lease.read_bytes())
    except FileNotFoundError:
        return False
    except ValueError:
        return True  # unreadable: keep it, never hand it out twice
    uuid, pod = str(info.get("uuid", "")), str(info.get("pod", ""))
    if pod and os.path.isdir(pod):
        return True
    pods = data_dir / "pods"
    try:
        return any((pods / st / uuid).is_dir() for st in os.listdir(pods)) if uuid else True
    except FileNotFoundError:
        return False


def allocate(data_dir: Path, net: str, ipam: dict[str, Any], *, uuid: str, pod: Path, ifname: str,
             want: str = "") -> Lease:
    """Lease an address of the network to the pod's interface (``want``: a given address).

    :raises NetworkError: the range is exhausted, or ``want`` is taken or out of range.
    """
    pool = Pool.from_conf(net, ipam)
    d = lease_dir(data_dir, net)
    record = json.dumps({"uuid": uuid, "pod": str(pod), "ifName": ifname}) + "\n"
    with _locked(d):
        if want:
            try:
                ip = ipaddress.IPv4Address(want)
            except ValueError:
                raise NetworkError(f"network {net!r}: bad IP argument {want!r}") from None
            if not pool.start <= ip <= pool.end or ip == pool.gateway:
                raise NetworkError(f"network {net!r}: requested IP {ip} is outside {pool.start}-{pool.end}")
            if (d / str(ip)).exists() and _holder_alive(data_dir, d / str(ip)):
                raise NetworkError(f"network {net!r}: requested IP {ip} is in use")
            candidates: Iterator[ipaddress.IPv4Address] = iter([ip])
        else:
            candidates = _round_robin(pool, d)
        for ip in candidates:
            if ip == pool.gateway or ip == pool.subnet.network_address or ip == pool.subnet.broadcast_address:
                continue
            lease = d / str(ip)
            if lease.exists() and _holder_alive(data_dir, lease):
                continue
            write_atomic(lease, record, 0o600)
            write_atomic(d / "last", f"{ip}\n", 0o600)
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


def release(data_dir: Path, net: str, uuid: str, ifname: str = "") -> None:
    """Drop the pod's lease(s) on the network; nothing happens if it holds none."""
    d = lease_dir(data_dir, net)
    if not d.is_dir():
        return
    with _locked(d):
        for name in os.listdir(d):
            if name in ("lock", "last") or name.startswith("."):
                continue
            try:
                info = json.loads((d / name).read_bytes())
            except (FileNotFoundError, ValueError):
                continue
            if info.get("uuid") == uuid and (not ifname or info.get("ifName") == ifname):
                try:
                    os.unlink(d / name)
                except FileNotFoundError:
                    pass


def leases(data_dir: Path, net: str) -> dict[str, str]:
    """The addresses leased on a network, with the pod UUID holding each."""
    d = lease_dir(data_dir, net)
    out: dict[str, str] = {}
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return out
    for name in names:
        if name in ("lock", "last") or name.startswith("."):
            continue
        try:
            out[name] = str(json.loads((d / name).read_bytes()).get("uuid", ""))
        except (FileNotFoundError, ValueError):
            continue
    return out
