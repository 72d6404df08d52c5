"""scripts/start-daemons: libvirtd and virtlogd are started where nothing else starts them.

The daemons and the tools are stand-ins on ``PATH`` and ``RKT_SBIN`` that record how they were
called; the host's real daemons are never touched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "start-daemons"


def _tool(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(tmp_path: Path, *, running: bool, systemd: bool) -> str:
    bin_, sbin, log = tmp_path / "bin", tmp_path / "sbin", tmp_path / "calls"
    bin_.mkdir()
    sbin.mkdir()
    _tool(bin_ / "pgrep", f"exit {0 if running else 1}")
    _tool(bin_ / "systemctl", f'echo "systemctl $*" >> {log}')
    _tool(bin_ / "sleep", "exit 0")
    for daemon in ("virtlogd", "libvirtd"):
        _tool(sbin / daemon, f'echo "{daemon} $*" >> {log}')
    systemd_dir = tmp_path / "systemd"
    if systemd:
        systemd_dir.mkdir()
    env = {"PATH": f"{bin_}:{os.environ['PATH']}", "RKT_SBIN": str(sbin), "RKT_SYSTEMD_DIR": str(systemd_dir),
           "RKT_LIBVIRT_SOCK": str(tmp_path / "sock")}
    p = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p
    return log.read_text() if log.exists() else ""


def test_without_an_init_system_the_daemons_are_started_detached(tmp_path: Path) -> None:
    assert _run(tmp_path, running=False, systemd=False) == "virtlogd -d\nlibvirtd -d\n"


def test_on_a_systemd_host_the_units_are_enabled(tmp_path: Path) -> None:
    assert _run(tmp_path, running=False, systemd=True) == ("systemctl enable --now virtlogd.socket\n"
                                                           "systemctl enable --now libvirtd.service\n")


@pytest.mark.parametrize("systemd", [False, True])
def test_running_daemons_are_left_alone(tmp_path: Path, systemd: bool) -> None:
    assert _run(tmp_path, running=True, systemd=systemd) == ""


def test_setup_host_starts_them() -> None:
    assert "./scripts/start-daemons" in (SCRIPT.parent / "setup-host").read_text()
