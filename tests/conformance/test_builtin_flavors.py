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
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

BUILTIN = ("fly", "coreos", "kvm", "qemu")
ROOT = Path(__file__).resolve().parents[2]
RKT = str(Path(sys.executable).with_name("rkt"))
#: flavors that need daemons this test starts for them (and stops afterwards) when they do not answer
NEEDS_LIBVIRT = frozenset({"kvm"})
VM_SMOKE = "listed or interface or capabilities or host_check or exit_code_propagates or arguments or gc_leaves"


@pytest.fixture(scope="module")
def daemons() -> Iterator[Callable[[str], None]]:
    """``daemons(flavor)`` makes what the flavor needs answer for the rest of the module.

    libvirt's daemons are started through :func:`tests.support.libvirt.libvirt_daemons`: only
    when ``qemu:///system`` does not answer (whatever socket files exist), and only the
    daemons started here are stopped afterwards.
    """
    stack = ExitStack()

    def start(flavor: str) -> None:
        if os.geteuid() == 0 and flavor in NEEDS_LIBVIRT:
            from tests.support.libvirt import libvirt_daemons

            stack.enter_context(libvirt_daemons())

    with stack:
        yield start


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
    if not entry["broken"] and name in NEEDS_LIBVIRT:
        daemons(name)  # even when the listing saw them: daemons someone else started may be gone now
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
