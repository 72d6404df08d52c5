"""The rkt_sdk conformance kit over every built-in flavor installed.

Two ways in:

- ``pytest tests/conformance --rkt-flavor=NAME`` (what ``nox -s conformance`` runs): the kit
  adds its own test module for NAME, and the tests here step aside.
- a plain ``pytest tests`` run: each built-in flavor gets one test here that runs the kit
  in a child pytest and passes when the kit passes (or skips, with the flavor's reason,
  when the host cannot run it). Virtual-machine flavors boot a VM per pod, under TCG
  emulation on hosts without usable KVM, so they run a smoke subset here unless
  ``RKT_CONFORMANCE_FULL=1``; ``nox -s conformance`` always runs everything. The kvm
  flavor needs libvirtd: when it is not running, this module starts virtlogd and libvirtd
  for the run and stops them afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BUILTIN = ("fly", "coreos", "kvm", "qemu")
ROOT = Path(__file__).resolve().parents[2]
RKT = str(Path(sys.executable).with_name("rkt"))
#: flavors that need a daemon this test starts for them (and stops afterwards) when it is not running
DAEMONS = {"kvm": ("virtlogd", "libvirtd")}
VM_SMOKE = "listed or interface or capabilities or host_check or exit_code_propagates or arguments or gc_leaves"


def _start_daemons(names: tuple[str, ...], piddir: Path) -> list[int]:
    """Start each daemon not already running (libvirtd's socket tells); return the pids started."""
    if Path("/run/libvirt/libvirt-sock").exists():
        return []
    started = []
    for name in names:
        binary = Path("/usr/sbin") / name
        if not binary.exists():
            break
        pidfile = piddir / f"{name}.pid"
        subprocess.run([str(binary), "-d", "--pid-file", str(pidfile)], check=True, timeout=30)
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                started.append(int(pidfile.read_text()))
                break
            time.sleep(0.05)
    for _ in range(100):
        if Path("/run/libvirt/libvirt-sock").exists():
            break
        time.sleep(0.05)
    return started


def _stop(pids: list[int]) -> None:
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def daemons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], None]]:
    """``daemons(flavor)`` starts what the flavor needs for the rest of the module."""
    pids: list[int] = []
    piddir = tmp_path_factory.mktemp("daemons")

    def start(flavor: str) -> None:
        if os.geteuid() == 0 and flavor in DAEMONS:
            pids.extend(_start_daemons(DAEMONS[flavor], piddir))

    try:
        yield start
    finally:
        _stop(pids)


def _listing(data: Path) -> dict[str, dict[str, Any]]:
    r = subprocess.run([RKT, f"--dir={data}", "flavors", "--format=json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {f["name"]: f for f in json.loads(r.stdout)}


@pytest.fixture(scope="module")
def listing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if request.config.getoption("rkt_flavor"):
        pytest.skip("the kit runs in this session (--rkt-flavor given)")
    return _listing(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_flavor_passes_the_kit(name: str, listing: dict[str, dict[str, Any]],
                                      daemons: Callable[[str], None], tmp_path: Path) -> None:
    entry = listing.get(name)
    if entry is None:
        pytest.skip(f"flavor {name!r} is not installed")
    if not entry["broken"] and not entry["canRun"] and name in DAEMONS:
        daemons(name)
        entry = _listing(tmp_path)[name]
    assert not entry["broken"], entry["error"]
    if not entry["canRun"]:
        pytest.skip(f"flavor {name!r} cannot run on this host: {entry['reason']}")
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", f"--rkt-flavor={name}",
            "-o", "addopts=", "tests/conformance/test_builtin_flavors.py"]
    if entry["capabilities"]["virtualized"] and os.environ.get("RKT_CONFORMANCE_FULL") != "1":
        args += ["-k", VM_SMOKE]
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    assert r.returncode == 0, f"conformance kit over {name}: {summary}\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"
    assert "passed" in summary
