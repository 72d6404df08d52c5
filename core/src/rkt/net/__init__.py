"""Pod networking of stage0: ``--net`` modes, named networks, CNI plugins, port forwards and DNS files.

The public API is this module's functions; they import their machinery when called, and
rtnetlink only where a contained network is set up or torn down, so ``--net=host`` and
``--net=none`` pods, ``rkt list`` and ``rkt status`` never load it.

- :func:`parse_net_flags` turns ``--net`` values into a :class:`NetSpec`;
- :func:`setup` / :func:`teardown` make and undo a pod's networks (:mod:`rkt.net.attach`);
- :func:`write_dns_files`, :func:`dns_config_from_flags`, :func:`hosts_entries_from_flags`
  handle ``--dns*`` and ``--hosts-entry`` (:mod:`rkt.net.dns`);
- :func:`status_networks` / :func:`format_networks` read the saved state for ``list``/``status``.

The names re-exported from the submodules are imported on first use, so importing a submodule
(``rkt.net.state`` for ``rkt list``) costs nothing else.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from rkt.net.errors import NetworkError
    from rkt.net.spec import NetRequest, NetSpec, parse_net_flags
    from rkt.net.state import format_networks, status_networks
    from rkt_sdk.appc import PodManifest, PodPort
    from rkt_sdk.types import DNSConfig, NetworkAttachment

_LAZY = {"NetworkError": "rkt.net.errors", "NetRequest": "rkt.net.spec", "NetSpec": "rkt.net.spec",
         "parse_net_flags": "rkt.net.spec", "format_networks": "rkt.net.state", "status_networks": "rkt.net.state"}

__all__ = ["NetRequest", "NetSpec", "NetworkError", "dns_config_from_flags", "format_networks",
           "hosts_entries_from_flags", "parse_net_flags", "setup", "status_networks", "teardown",
           "write_dns_files"]


def setup(*, pod_path: Path, uuid: str, spec: NetSpec, config_dirs: tuple[Path, ...], data_dir: Path,
          attachment: str = "netns", ports: tuple[PodPort, ...] = (), manifest: PodManifest | None = None
          ) -> tuple[Path | None, tuple[NetworkAttachment, ...]]:
    """Give a pod its network (see :func:`rkt.net.attach.setup`).

    ``ports`` are forwarded to the app ports ``manifest`` declares. ``host``: ``(None, ())``,
    nothing done. ``none``: a namespace with only ``lo`` at ``/var/run/netns/rkt-<uuid>``.
    ``contained``: that namespace with ``eth0``, ``eth1``... one per network, or with
    ``attachment="tap"`` one host tap device per network and no namespace.

    :raises NetworkError: naming the network and what is wrong, after undoing what was made.
    """
    if spec.mode == "host" and not ports:
        return None, ()
    from rkt.net import attach

    return attach.setup(pod_path=pod_path, uuid=uuid, spec=spec, config_dirs=config_dirs, data_dir=data_dir,
                        attachment=attachment, ports=ports, manifest=manifest)


def teardown(pod_path: Path, data_dir: Path) -> None:
    """Undo the pod's networks from its saved state (idempotent; see :func:`rkt.net.attach.teardown`)."""
    from rkt.net import attach

    attach.teardown(pod_path, data_dir)


def write_dns_files(pod_path: Path, dns: DNSConfig, hosts_entries: tuple[tuple[str, str], ...], hostname: str,
                    attachments: tuple[NetworkAttachment, ...] | list[NetworkAttachment]) -> None:
    """Write the pod's resolv.conf and hosts files when rkt's precedence imposes them (:mod:`rkt.net.dns`)."""
    from rkt.net import dns as dnsmod

    dnsmod.write_dns_files(pod_path, dns, hosts_entries, hostname, attachments)


def dns_config_from_flags(dns: list[str], search: list[str], opts: list[str], domain: str) -> DNSConfig:
    """``--dns``, ``--dns-search``, ``--dns-opt``, ``--dns-domain`` as a DNSConfig (:mod:`rkt.net.dns`)."""
    from rkt.net import dns as dnsmod

    return dnsmod.dns_config_from_flags(dns, search, opts, domain)


def hosts_entries_from_flags(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``--hosts-entry`` values as ``(ip, name)`` pairs, ``("host", "")`` for ``host`` (:mod:`rkt.net.dns`)."""
    from rkt.net import dns as dnsmod

    return dnsmod.hosts_entries_from_flags(values)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
