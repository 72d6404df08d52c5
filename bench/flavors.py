"""Which stage1 flavors the bench measures: those installed that this host can run.

Asks ``rkt flavors --format=json`` first; where that command does not exist yet, reads the
``rkt.stage1`` entry points. Whether a flavor really runs is decided by the benchmark's own
warm-up run, whose error (if any) is reported in place of a time.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from bench.workspace import Workspace

#: Flavors that boot a virtual machine: measured by the ``vm`` suite, not ``startup``.
VM_FLAVORS = ("qemu", "kvm")
#: Flavors tried when nothing lists them, in the order of the tables.
KNOWN = ("fly", "coreos", "qemu", "kvm")


@dataclass(frozen=True)
class FlavorStatus:
    """A flavor seen on this host, and why it cannot run if it cannot."""

    name: str
    installed: bool
    runnable: bool
    reason: str = ""
    net_modes: tuple[str, ...] = ()


def _truthy(entry: dict[str, object]) -> bool | None:
    for k in ("runnable", "ok", "usable", "available", "canRun", "can_run"):
        if isinstance(entry.get(k), bool):
            return bool(entry[k])
    hc = entry.get("hostCheck") or entry.get("host_check")
    if isinstance(hc, dict) and isinstance(hc.get("ok"), bool):
        return bool(hc["ok"])
    return None


def _reason(entry: dict[str, object]) -> str:
    hc = entry.get("hostCheck") or entry.get("host_check")
    for src in (entry, hc if isinstance(hc, dict) else {}):
        for k in ("reason", "why", "error"):
            if src.get(k):
                return str(src[k])
    return ""


def from_cli(ws: Workspace) -> dict[str, FlavorStatus] | None:
    """Flavors as ``rkt flavors --format=json`` lists them, or None if that does not work here."""
    try:
        p = subprocess.run(ws.rkt(ws.data_dir("flavors"), "flavors", "--format=json"), capture_output=True,
                           text=True, env=ws.env, timeout=60, stdin=subprocess.DEVNULL)
        raw = json.loads(p.stdout) if p.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if isinstance(raw, dict):
        raw = raw.get("flavors", [dict(v, name=k) for k, v in raw.items() if isinstance(v, dict)])
    if not isinstance(raw, list):
        return None
    out = {}
    for e in raw:
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            ok = _truthy(e) if not e.get("broken") else False
            caps = e.get("capabilities")
            modes = caps.get("networkModes", ()) if isinstance(caps, dict) else ()
            out[e["name"]] = FlavorStatus(e["name"], True, ok is not False, "" if ok is not False else _reason(e),
                                          tuple(str(m) for m in modes) if isinstance(modes, list) else ())
    return out


def from_entry_points() -> dict[str, FlavorStatus]:
    """Flavors registered under the ``rkt.stage1`` entry-point group (assumed runnable)."""
    from importlib.metadata import entry_points

    return {ep.name: FlavorStatus(ep.name, True, True) for ep in entry_points(group="rkt.stage1")}


def discover(ws: Workspace, extra: tuple[str, ...] = ()) -> dict[str, FlavorStatus]:
    """The built-in flavors and the ``extra`` ones asked for; those not installed say so.

    Other installed flavors (third-party, or test doubles) are left out unless named.
    """
    found = from_cli(ws)
    source = "rkt flavors"
    if found is None:
        found = from_entry_points()
        source = "entry points"
    names = [*KNOWN, *(n for n in extra if n not in KNOWN)]
    out = {}
    for n in names:
        out[n] = found.get(n) or FlavorStatus(n, False, False, f"not installed (per {source})")
    return out
