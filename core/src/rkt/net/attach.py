"""Setting up and tearing down a pod's networks.

:func:`setup` makes the network namespace (or, for virtual machines, tap devices), attaches
each selected network, and adds port forwards. Each resource is recorded in the pod's saved
state (:mod:`rkt.net.state`) before it is made, and :func:`teardown` undoes from that record
alone, so it works after a failed setup, after a crash of the pod, and when called twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rkt.net import netns as nsmod
from rkt.net import state as st
from rkt.net.errors import NetworkError
from rkt.net.spec import NetSpec
from rkt_sdk.appc import PodManifest, PodPort
from rkt_sdk.types import NetworkAttachment


def setup(*, pod_path: Path, uuid: str, spec: NetSpec, config_dirs: tuple[Path, ...], data_dir: Path,
          attachment: str = "netns", ports: tuple[PodPort, ...] = (), manifest: PodManifest | None = None
          ) -> tuple[Path | None, tuple[NetworkAttachment, ...]]:
    """Give the pod its network; returns its namespace path (``None`` for host mode or taps) and
    the networks attached, in order. ``ports`` are forwarded to the app ports ``manifest`` declares.

    :raises NetworkError: naming the network and what is wrong; everything made is undone first.
    """
    if spec.mode == "host":
        if ports:
            raise NetworkError("--port needs a contained network, not --net=host")
        return None, ()
    if attachment not in ("netns", "tap"):
        raise NetworkError(f"network attachment {attachment!r} unknown (want netns or tap)")
    state: dict[str, Any] = {"version": st.STATE_VERSION, "uuid": uuid, "mode": spec.mode,
                             "attachment": attachment, "netns": None, "networks": [], "iptables": [],
                             "created": time.time_ns()}
    if spec.mode == "none":
        if ports:
            raise NetworkError("--port needs a contained network, not --net=none")
        if attachment == "tap":
            st.save(pod_path, state)
            return None, ()
        path = nsmod.path_for(uuid)
        state["netns"] = str(path)
        st.save(pod_path, state)
        try:
            nsmod.create(path)
        except NetworkError:
            teardown(pod_path, data_dir)
            raise
        return path, ()
    if spec.mode != "contained":
        raise NetworkError(f"network mode {spec.mode!r} unknown")
    try:
        return _setup_contained(state, pod_path=pod_path, uuid=uuid, spec=spec, config_dirs=config_dirs,
                                data_dir=data_dir, tap=attachment == "tap", ports=ports, manifest=manifest)
    except BaseException:
        try:
            teardown(pod_path, data_dir)
        except NetworkError:
            pass
        raise


def _setup_contained(state: dict[str, Any], *, pod_path: Path, uuid: str, spec: NetSpec,
                     config_dirs: tuple[Path, ...], data_dir: Path, tap: bool, ports: tuple[PodPort, ...],
                     manifest: PodManifest | None
                     ) -> tuple[Path | None, tuple[NetworkAttachment, ...]]:
    from rkt.net import conf as confmod

    chosen = confmod.select(spec, config_dirs)
    forwards = _port_targets(manifest, ports) if ports else []
    if tap:
        for c, _ in chosen:
            if not c.native:
                raise NetworkError(f"network {c.name!r}: type {c.type!r} runs as a CNI plugin, which needs a "
                                   "network namespace; a virtual machine pod takes native ptp or bridge networks only")

    def save() -> None:
        st.save(pod_path, state)

    path: Path | None = None
    if not tap:
        path = nsmod.path_for(uuid)
        state["netns"] = str(path)
        save()
        nsmod.create(path)
    else:
        save()
    attachments: list[NetworkAttachment] = []
    for index, (c, req) in enumerate(chosen):
        entry: dict[str, Any] = {"name": c.name, "type": c.type, "netConf": c.source, "args": req.args_text,
                                 "ifName": f"eth{index}", "native": c.native,
                                 "ipMasq": bool(c.raw.get("ipMasq", False))}
        state["networks"].append(entry)
        save()
        try:
            if c.native:
                from rkt.net import links

                entry["pluginPath"] = f"native:{c.type}"
                att = links.setup(c, req, entry, index=index, netns=path, uuid=uuid, pod_path=pod_path,
                                  data_dir=data_dir, save=save)
            else:
                att = _setup_cni(c, req, entry, path, uuid, config_dirs, save)
        except (OSError, LookupError, ValueError, TypeError) as e:
            raise NetworkError(f"network {c.name!r} ({c.type}): {e}") from None
        attachments.append(att)
        save()
    if forwards:
        _setup_ports(state, uuid, pod_path, attachments, forwards, save)
    state["complete"] = True
    save()
    return path, tuple(attachments)


def _setup_cni(c: Any, req: Any, entry: dict[str, Any], path: Path | None, uuid: str,
               config_dirs: tuple[Path, ...], save: Any) -> NetworkAttachment:
    from rkt.net import cni
    from rkt.net.conf import plugin_dirs

    dirs = cni.search_path(plugin_dirs(config_dirs))
    plugin = cni.find_plugin(c.type, dirs, c.name)
    conf = cni.plugin_config(c.raw)
    entry.update(pluginPath=str(plugin), cni={"config": conf, "dirs": [str(d) for d in dirs]})
    save()
    result = cni.run("ADD", plugin, conf, uuid=uuid, netns=str(path), ifname=entry["ifName"], args=req.args_text,
                     dirs=dirs)
    entry["cni"]["result"] = result
    parsed = cni.parse_result(result, entry["ifName"])
    entry.update(parsed)
    if not parsed["ip"]:
        raise NetworkError(f"network {c.name!r}: CNI plugin {plugin.name} gave no IPv4 address")
    return NetworkAttachment(c.name, entry["ifName"], parsed["ip"], parsed["prefixLen"], parsed["gateway"], "",
                             tuple(tuple(r) for r in parsed["routes"]), tuple(parsed["dns"]))


def _port_targets(manifest: PodManifest | None, ports: tuple[PodPort, ...]) -> list[tuple[str, str, int, int]]:
    """``(protocol, host IP, host port, pod port)`` for each ``--port``, from the apps' declared ports."""
    if manifest is None:
        raise NetworkError("--port: no pod manifest declares the ports to forward to")
    declared = {p.name: p for a in manifest.apps for p in a.app.ports}
    out: list[tuple[str, str, int, int]] = []
    seen: set[tuple[str, int]] = set()
    for pp in ports:
        port = declared.get(pp.name)
        if port is None:
            known = ", ".join(sorted(declared)) or "none"
            raise NetworkError(f"--port={pp.name}:{pp.host_port}: no app declares a port named {pp.name!r} "
                               f"(declared: {known})")
        if (port.protocol, pp.host_port) in seen:
            raise NetworkError(f"--port: host port {pp.host_port}/{port.protocol} forwarded twice")
        seen.add((port.protocol, pp.host_port))
        out.append((port.protocol, pp.host_ip, pp.host_port, port.port))
    return out


def _setup_ports(state: dict[str, Any], uuid: str, pod_path: Path, attachments: list[NetworkAttachment],
                 forwards: list[tuple[str, str, int, int]], save: Any) -> None:
    from rkt.net import iptables
    from rkt.net import ports as claims
    from rkt.net.links import _sysctl

    # a host port is the host's, whichever data directory the pod is in: claim each first
    state["portClaims"] = []
    for proto, _, host_port, _ in forwards:
        state["portClaims"].append(str(claims.claim_path(proto, host_port)))
        save()
        claims.claim(proto, host_port, uuid=uuid, pod=pod_path)

    # as rkt: the first network that masquerades, else the last one
    nets = state["networks"]
    target = next((i for i, n in enumerate(nets) if n.get("ipMasq")), len(nets) - 1)
    att = attachments[target]
    # packets from 127.0.0.1 may leave through the interface towards the pod (then masqueraded)
    _sysctl(f"net/ipv4/conf/{_route_interface(att.ip4, att.name)}/route_localnet", "1")
    state["ports"] = {"network": att.name, "ip": att.ip4, "forwards": [list(f) for f in forwards]}
    for rs in iptables.port_forwards(uuid, att.ip4, forwards):
        state["iptables"].append(rs.to_dict())
        save()
        iptables.apply(rs, f"--port (network {att.name!r})")


def _route_interface(ip: str, net: str) -> str:
    """The host interface the host's route to ``ip`` goes out of."""
    from rkt.net.rtnl import Rtnl

    with Rtnl() as ipr:
        oif = ipr.route_oif(ip)
        name = ipr.link_name(oif) if oif else None
    if name:
        return name
    raise NetworkError(f"--port: no route from the host to {ip} (network {net!r})")


def teardown(pod_path: Path, data_dir: Path) -> None:
    """Undo the pod's network setup from its saved state; a no-op when there is none or it is undone.

    Every step is tried even when an earlier one fails.

    :raises NetworkError: some step failed (the rest was still done; calling again retries).
    """
    state = st.load(pod_path)
    if not state or state.get("tornDown"):
        return
    errors: list[str] = []
    uuid = str(state.get("uuid", ""))
    if state.get("iptables"):
        from rkt.net import iptables

        for rs in reversed(state["iptables"]):
            iptables.remove(iptables.RuleSet.from_dict(rs))
    if state.get("portClaims"):
        from rkt.net import ports as claims

        for path in state["portClaims"]:
            claims.release(str(path), uuid)
    for entry in reversed(state.get("networks", [])):
        try:
            if entry.get("native"):
                from rkt.net import links

                links.teardown(entry, data_dir, uuid)
            elif entry.get("cni"):
                _teardown_cni(entry, state, uuid)
        except (NetworkError, OSError) as e:
            errors.append(str(e))
    if state.get("netns"):
        nsmod.remove(Path(state["netns"]))
    if errors:
        raise NetworkError(f"pod {uuid} network teardown: {errors[0]}")
    state["tornDown"] = time.time_ns()
    st.save(pod_path, state)


def _teardown_cni(entry: dict[str, Any], state: dict[str, Any], uuid: str) -> None:
    from rkt.net import cni

    info = entry["cni"]
    plugin = Path(entry.get("pluginPath", ""))
    if not plugin.is_file():
        raise NetworkError(f"network {entry.get('name')!r}: CNI plugin {plugin} gone, cannot run DEL")
    cni.run("DEL", plugin, info["config"], uuid=uuid, netns=str(state.get("netns") or ""),
            ifname=str(entry.get("ifName", "")), args=str(entry.get("args", "")),
            dirs=tuple(Path(d) for d in info.get("dirs", [])), prev_result=info.get("result"))
