"""Network state as rkt list/status read it: cheap, from the saved JSON only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rkt.net import format_networks, status_networks


def _write(pod: Path, networks: list[dict[str, object]]) -> None:
    (pod / "net").mkdir()
    (pod / "net" / "state.json").write_text(json.dumps({"version": 1, "networks": networks}))


def test_status_and_format(tmp_path: Path) -> None:
    _write(tmp_path, [
        {"name": "default", "netConf": "net/99-default.conf", "pluginPath": "native:ptp", "ifName": "eth0",
         "ip": "172.16.28.2", "prefixLen": 24, "args": ""},
        {"name": "half-done", "ifName": "eth1"},
        {"name": "wide", "netConf": "/etc/rkt/net.d/10-wide.conf", "pluginPath": "/usr/lib/cni/bridge",
         "ifName": "eth2", "ip": "10.0.3.4", "prefixLen": 16, "args": "IP=10.0.3.4"},
    ])
    assert status_networks(tmp_path) == [
        {"netName": "default", "netConf": "net/99-default.conf", "pluginPath": "native:ptp", "ifName": "eth0",
         "ip": "172.16.28.2", "args": "", "mask": "255.255.255.0"},
        {"netName": "wide", "netConf": "/etc/rkt/net.d/10-wide.conf", "pluginPath": "/usr/lib/cni/bridge",
         "ifName": "eth2", "ip": "10.0.3.4", "args": "IP=10.0.3.4", "mask": "255.255.0.0"}]
    assert format_networks(tmp_path) == "default:ip4=172.16.28.2,wide:ip4=10.0.3.4"


def test_no_state_means_no_networks(tmp_path: Path) -> None:
    assert status_networks(tmp_path) == [] and format_networks(tmp_path) == ""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "state.json").write_text("{truncated")
    assert status_networks(tmp_path) == []


def test_reading_status_imports_no_netlink_code(tmp_path: Path) -> None:
    _write(tmp_path, [{"name": "default", "ip": "172.16.28.2", "prefixLen": 24}])
    code = ("import sys; from pathlib import Path; import rkt.net as n; "
            f"print(n.format_networks(Path({str(tmp_path)!r}))); "
            "print(sorted(m for m in sys.modules if m.startswith(('pyroute2', 'rkt.net.rtnl', 'rkt.net.links'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "default:ip4=172.16.28.2\n[]\n"
