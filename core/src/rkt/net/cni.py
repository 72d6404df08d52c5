"""External CNI plugins: run the binary named by a network's ``type`` per the CNI spec.

The plugin is looked up in ``$CNI_PATH``, then in each config dir's ``plugins/net`` and
``net.d`` (highest precedence first), then in ``/usr/lib/cni`` and ``/opt/cni/bin``. It gets
``CNI_COMMAND``, ``CNI_CONTAINERID`` (the pod UUID), ``CNI_NETNS``, ``CNI_IFNAME``,
``CNI_ARGS`` (the ``--net`` arguments) and ``CNI_PATH`` in its environment and the network
config on stdin (``cniVersion`` defaults to 0.4.0; ``DEL`` gets the ``ADD`` result as
``prevResult``). A ``host-local`` IPAM section keeps the plugin's own default lease directory
(``/var/lib/cni/networks``) unless it sets ``dataDir``: addresses are a host-wide resource,
shared by every rkt data directory, as the native IPAM's are (:mod:`rkt.net.ipam`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from rkt.net.errors import NetworkError

DEFAULT_VERSION = "0.4.0"
TIMEOUT = 60.0


def search_path(plugin_dirs: tuple[Path, ...]) -> tuple[Path, ...]:
    env = [Path(p) for p in os.environ.get("CNI_PATH", "").split(":") if p]
    return (*env, *plugin_dirs)


def find_plugin(type_: str, dirs: tuple[Path, ...], net: str) -> Path:
    """The plugin binary for ``type_``.

    :raises NetworkError: no executable of that name in ``dirs``.
    """
    for d in dirs:
        p = d / type_
        if p.is_file() and os.access(p, os.X_OK):
            return p
    raise NetworkError(f"network {net!r}: CNI plugin {type_!r} not found in {':'.join(map(str, dirs))}")


def plugin_config(raw: dict[str, Any]) -> dict[str, Any]:
    """The config given to the plugin: the user's, with ``cniVersion`` filled in."""
    conf = json.loads(json.dumps(raw))
    conf.setdefault("cniVersion", DEFAULT_VERSION)
    return conf


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def run(command: str, plugin: Path, conf: dict[str, Any], *, uuid: str, netns: str, ifname: str, args: str,
        dirs: tuple[Path, ...], prev_result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the plugin with ``command`` (``ADD``, ``DEL``, ``CHECK``) and return its result (``{}`` for DEL).

    :raises NetworkError: the plugin failed or printed no valid result; the message has its error.
    """
    stdin = dict(conf)
    if prev_result is not None and _version_tuple(str(conf.get("cniVersion", ""))) >= (0, 4, 0):
        stdin["prevResult"] = prev_result
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
           "CNI_CONTAINERID": uuid, "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_ARGS": args,
           "CNI_PATH": ":".join(str(d) for d in dirs)}
    name = conf.get("name", "?")
    try:
        p = subprocess.run([str(plugin)], input=json.dumps(stdin).encode(), env=env, capture_output=True,
                           timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NetworkError(f"network {name!r}: CNI plugin {plugin} {command}: {e}") from None
    if p.returncode != 0:
        msg = p.stderr.decode(errors="replace").strip()
        try:
            err = json.loads(p.stdout)
            msg = f"{err.get('msg', '')} {err.get('details', '')}".strip() or msg
        except ValueError:
            msg = msg or p.stdout.decode(errors="replace").strip()
        raise NetworkError(f"network {name!r}: CNI plugin {plugin.name} {command} failed: {msg}")
    if command != "ADD":
        return {}
    try:
        result = json.loads(p.stdout)
    except ValueError:
        raise NetworkError(f"network {name!r}: CNI plugin {plugin.name} printed no JSON result") from None
    if not isinstance(result, dict):
        raise NetworkError(f"network {name!r}: CNI plugin {plugin.name} result is not a JSON object")
    return result


def parse_result(result: dict[str, Any], ifname: str) -> dict[str, Any]:
    """The pod's IPv4 address, prefix, gateway, routes and nameservers from a CNI result (any version)."""
    out: dict[str, Any] = {"ip": "", "prefixLen": 0, "gateway": "", "routes": [], "dns": []}
    if isinstance(result.get("ip4"), dict):  # 0.1.0 / 0.2.0
        ip4 = result["ip4"]
        addr, _, plen = str(ip4.get("ip", "")).partition("/")
        out.update(ip=addr, prefixLen=int(plen or 0), gateway=str(ip4.get("gateway", "")))
        out["routes"] = [(str(r.get("dst", "")), str(r.get("gw", "") or ip4.get("gateway", "")))
                         for r in ip4.get("routes") or [] if isinstance(r, dict)]
    else:
        ifaces = result.get("interfaces") or []
        pod_ifaces = {i for i, f in enumerate(ifaces) if isinstance(f, dict) and f.get("name") == ifname
                      and f.get("sandbox")}
        ips = [x for x in result.get("ips") or [] if isinstance(x, dict) and ":" not in str(x.get("address", ":"))]
        ips.sort(key=lambda x: 0 if x.get("interface") in pod_ifaces else 1)
        if ips:
            addr, _, plen = str(ips[0]["address"]).partition("/")
            out.update(ip=addr, prefixLen=int(plen or 0), gateway=str(ips[0].get("gateway", "")))
        out["routes"] = [(str(r.get("dst", "")), str(r.get("gw", "")))
                         for r in result.get("routes") or [] if isinstance(r, dict) and ":" not in str(r.get("dst"))]
    dns = result.get("dns")
    if isinstance(dns, dict):
        out["dns"] = [str(s) for s in dns.get("nameservers") or []]
        out["dnsSearch"] = [str(s) for s in dns.get("search") or []]
        out["dnsOptions"] = [str(s) for s in dns.get("options") or []]
        out["dnsDomain"] = str(dns.get("domain", "") or "")
    return out
