"""Resolver and hosts files for the pod's apps: ``--dns*`` and ``--hosts-entry``, with rkt's precedence.

``/etc/resolv.conf``, highest precedence first:

1. ``--dns=IP`` (with ``--dns-search``, ``--dns-opt``, ``--dns-domain``): a generated file;
   ``--dns=host``: a copy of the host's file;
2. the nameservers a network's CNI result gave, unless ``--dns=none``;
3. otherwise no file is written, and the image's own (or a volume on it) stays.

``/etc/hosts``: ``--hosts-entry=host`` copies the host's file; ``--hosts-entry=IP=NAME``
entries give rkt's stub (localhost lines, the pod's hostname) followed by the entries, names
of the same address on one line; with no entry no file is written (the flavor keeps the
image's file or makes a stub).

Files are written under the pod directory (:attr:`rkt_sdk.poddir.PodDir.resolv_conf` and
:attr:`~rkt_sdk.poddir.PodDir.hosts`); the flavor puts them in place in each app.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

from rkt.net import state as st
from rkt.net.errors import NetworkError
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.types import DNSConfig, NetworkAttachment

HOST_RESOLV_CONF = Path("/etc/resolv.conf")
HOST_HOSTS = Path("/etc/hosts")
HOSTS_STUB = ("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n"
              "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n")


def _check_ip(value: str, flag: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise NetworkError(f"{flag}: {value!r} is not an IP address") from None


_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_OPTION = re.compile(r"^[A-Za-z0-9_.:-]+$")


def check_hostname(value: str, flag: str) -> str:
    """``value`` if it is an RFC 1123 host name (labels of letters, digits, inner hyphens; underscores
    allowed, as resolvers do); at most 253 characters. A trailing dot is refused.

    :raises NetworkError: naming the flag and the value.
    """
    if not value or len(value) > 253 or not all(_LABEL.match(label) for label in value.split(".")):
        raise NetworkError(f"{flag}: {value!r} is not a valid host name (RFC 1123: labels of letters, digits and "
                           "inner hyphens, at most 63 characters each, separated by dots)")
    return value


def dns_config_from_flags(dns: list[str], search: list[str], opts: list[str], domain: str) -> DNSConfig:
    """Turn ``--dns``, ``--dns-search``, ``--dns-opt`` and ``--dns-domain`` into a :class:`DNSConfig`.

    ``host`` and ``none`` must be the only ``--dns`` value and exclude the other flags.

    :raises NetworkError: a bad address or a forbidden combination.
    """
    values = [v.strip() for d in dns for v in d.split(",") if v.strip()]
    search_l = [s for v in search for s in v.split(",") if s]
    opts_l = [o for v in opts for o in v.split(",") if o]
    for magic in ("host", "none"):
        if magic in values:
            if len(values) > 1:
                raise NetworkError(f"--dns={magic} cannot be combined with other --dns values")
            if search_l or opts_l or domain:
                raise NetworkError(f"--dns={magic} cannot be combined with --dns-search, --dns-opt or --dns-domain")
            return DNSConfig(mode=magic)
    servers = tuple(_check_ip(v, "--dns") for v in values)
    search_l = [check_hostname(v, "--dns-search") for v in search_l]
    if domain:
        check_hostname(domain, "--dns-domain")
    for o in opts_l:
        if not _OPTION.match(o):
            raise NetworkError(f"--dns-opt: {o!r} is not a resolver option (such as ndots:2 or rotate)")
    if servers or search_l or opts_l or domain:
        return DNSConfig("flags", servers, tuple(search_l), tuple(opts_l), domain)
    return DNSConfig()


def hosts_entries_from_flags(values: list[str]) -> tuple[tuple[str, str], ...]:
    """Turn ``--hosts-entry`` values (``IP=NAME`` lists, or ``host``) into ``(ip, name)`` pairs;
    ``host`` gives ``("host", "")`` and stands alone.

    :raises NetworkError: a malformed entry or ``host`` mixed with entries.
    """
    out: list[tuple[str, str]] = []
    for v in values:
        for item in filter(None, (x.strip() for x in v.split(","))):
            if item == "host":
                out.append(("host", ""))
                continue
            ip, eq, name = item.partition("=")
            if not eq or not name:
                raise NetworkError(f"--hosts-entry: {item!r} is not IP=HOSTNAME or host")
            out.append((_check_ip(ip, "--hosts-entry"), check_hostname(name, "--hosts-entry")))
    if ("host", "") in out and len(out) > 1:
        raise NetworkError("--hosts-entry=host cannot be combined with IP=HOSTNAME entries")
    return tuple(out)


def _uniq(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i and i not in seen:
            seen.append(i)
    return seen


def render_resolv_conf(servers: Iterable[str], search: Iterable[str], options: Iterable[str], domain: str,
                       origin: str) -> str:
    lines = [f"# Generated by {origin}", ""]
    search_l = _uniq(search)
    if search_l:
        lines.append("search " + " ".join(search_l))
    lines += [f"nameserver {s}" for s in _uniq(servers)]
    opts = _uniq(options)
    if opts:
        lines.append("options " + " ".join(opts))
    if domain:
        lines.append(f"domain {domain}")
    return "\n".join(lines) + "\n"


def render_hosts(entries: tuple[tuple[str, str], ...], hostname: str,
                 attachments: tuple[NetworkAttachment, ...]) -> str:
    text = HOSTS_STUB
    if hostname:
        ip = next((a.ip4 for a in attachments if a.ip4), "127.0.0.1")
        text += f"{ip}\t{hostname}\n"
    by_ip: dict[str, list[str]] = {}
    for ip, name in entries:
        names = by_ip.setdefault(ip, [])
        if name not in names:
            names.append(name)
    if by_ip:
        text += "\n" + "".join(f"{ip}\t{' '.join(names)}\n" for ip, names in by_ip.items())
    return text


def write_dns_files(pod_path: Path, dns: DNSConfig, hosts_entries: tuple[tuple[str, str], ...], hostname: str,
                    attachments: tuple[NetworkAttachment, ...] | list[NetworkAttachment]) -> None:
    """Write ``<pod>/etc/resolv.conf`` and ``<pod>/etc/hosts`` when rkt's precedence says stage0
    imposes them (see the module doc); a file the image should keep is not written."""
    pod = PodDir(pod_path)
    atts = tuple(attachments)
    resolv: str | None = None
    if dns.mode == "flags":
        resolv = render_resolv_conf(dns.servers, dns.search, dns.options, dns.domain, "rkt run")
    elif dns.mode == "host":
        resolv = HOST_RESOLV_CONF.read_text() if HOST_RESOLV_CONF.exists() else ""
    elif dns.mode == "default":
        nets = (st.load(pod_path) or {}).get("networks", [])
        servers = _uniq([s for a in atts for s in a.dns] + [s for n in nets for s in n.get("dns", [])])
        if servers:
            resolv = render_resolv_conf(servers, [s for n in nets for s in n.get("dnsSearch", [])],
                                        [o for n in nets for o in n.get("dnsOptions", [])],
                                        next((n["dnsDomain"] for n in nets if n.get("dnsDomain")), ""),
                                        "rkt from the network's DNS result")
    hosts: str | None = None
    if ("host", "") in hosts_entries:
        hosts = HOST_HOSTS.read_text() if HOST_HOSTS.exists() else HOSTS_STUB
    elif hosts_entries:
        hosts = render_hosts(hosts_entries, hostname, atts)
    if resolv is None and hosts is None:
        return
    pod.resolv_conf.parent.mkdir(mode=0o755, exist_ok=True)
    if resolv is not None:
        write_atomic(pod.resolv_conf, resolv)
    if hosts is not None:
        write_atomic(pod.hosts, hosts)
