"""The pod's saved network state, ``<pod>/net/state.json``.

Setup writes the state *before* making each resource (netns, IPAM lease, host interface,
CNI attachment, iptables chain), so :func:`rkt.net.attach.teardown` can undo a half-done setup
or the setup of a crashed pod from this file alone. Readers here (``rkt list``/``status``) use
only the standard library.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

STATE_VERSION = 1


def state_path(pod_path: Path) -> Path:
    return pod_path / "net" / "state.json"


def load(pod_path: Path) -> dict[str, Any] | None:
    """The saved state, or ``None`` if the pod has none (host network, or nothing set up)."""
    try:
        data = json.loads(state_path(pod_path).read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def save(pod_path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically (the pod's ``net`` directory is made if needed)."""
    from rkt_sdk.poddir import write_atomic

    p = state_path(pod_path)
    p.parent.mkdir(mode=0o755, exist_ok=True)
    write_atomic(p, json.dumps(state, indent=1, sort_keys=True) + "\n", 0o600)


def _mask(prefix_len: int) -> str:
    m = (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF if 0 < prefix_len <= 32 else 0
    return ".".join(str((m >> s) & 0xFF) for s in (24, 16, 8, 0))


def status_networks(pod_path: Path) -> list[dict[str, Any]]:
    """The pod's networks as rkt's ``status --format=json`` shows them (empty when none)."""
    st = load(pod_path)
    return networks_of(st) if st else []


def networks_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The networks with an address in a loaded state, as :func:`status_networks` gives them."""
    out: list[dict[str, Any]] = []
    nets = state.get("networks")
    for n in nets if isinstance(nets, list) else ():
        if not isinstance(n, dict) or not n.get("ip"):
            continue
        out.append({"netName": n.get("name", ""), "netConf": n.get("netConf", ""),
                    "pluginPath": n.get("pluginPath", ""), "ifName": n.get("ifName", ""),
                    "ip": n["ip"], "args": n.get("args", ""), "mask": _mask(int(n.get("prefixLen", 0)))})
    return out


def format_networks(pod_path: Path) -> str:
    """``name:ip4=addr`` for each network with an address, comma-separated (rkt's text tables)."""
    return ",".join(f"{n['netName']}:ip4={n['ip']}" for n in status_networks(pod_path))
