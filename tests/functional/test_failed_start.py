"""The failure rule: an exception before a pod is running undoes everything its start made.

The fixture flavor ``failing`` (tests/fixtures/rkt-stage1-failing) makes a cgroup and a mount
in its run hook, prints what stage0 gave it, and raises a plain ``OSError``. The pod runs on the
default network, so a namespace, a veth pair and an address lease exist when it fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dists import FIXTURES, installed
from tests.functional.conftest import mounts_under
from tests.functional.test_net_cli import leases_of, leftovers
from tests.support.aci import build_aci

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="runs pods: needs root")]

RKT = str(Path(sys.executable).with_name("rkt"))


@pytest.fixture(scope="module")
def failing() -> Iterator[None]:
    with installed(FIXTURES / "rkt-stage1-failing"):
        yield


class Host:
    """``rkt`` with its own data and config dirs, and what a pod may leave on the host."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.data = tmp / "data"
        self.etc = tmp / "etc"
        self.base = [RKT, f"--dir={self.data}", f"--local-config={self.etc}", f"--system-config={tmp / 'lib'}"]
        self.img = build_aci(tmp / "img.aci", "example.com/failing", exec_=("/bin/true",))

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def run(self, *flags: str) -> tuple[subprocess.CompletedProcess[str], str]:
        uuid_file = self.tmp / "uuid"
        fetched = self("--insecure-options=image", "fetch", str(self.img))
        assert fetched.returncode == 0, fetched.stderr
        p = self("run", "--stage1-name=failing", f"--uuid-file-save={uuid_file}", *flags, "example.com/failing:1.0")
        return p, uuid_file.read_text().strip()

    def pods(self) -> list[str]:
        root = self.data / "pods"
        return sorted(f"{d.name}/{p.name}" for d in root.iterdir() for p in d.iterdir()) if root.exists() else []


@pytest.fixture
def host(failing: None, tmp_path: Path) -> Iterator[Host]:
    h = Host(tmp_path)
    yield h
    h("gc", "--grace-period=0s", "--expire-prepared=0s")


def _made(out: str) -> tuple[Path, str]:
    m = re.search(r"failing: cgroup=(\S+) netns=(\S+) networks=(\S*)", out)
    assert m, out
    return Path(m.group(1)), m.group(3)


def test_an_oserror_from_the_run_hook_undoes_the_whole_start(host: Host) -> None:
    p, uuid = host.run()
    assert p.returncode == 254, p
    assert p.stderr.splitlines() == ["run: the failing flavor failed: the failing flavor fails on purpose"], p.stderr
    cgroup, networks = _made(p.stdout)
    assert networks.startswith("default:eth0:172.16.28."), p.stdout  # a veth and a lease were made
    assert host.pods() == []
    assert mounts_under(host.data) == []
    assert leftovers(uuid) == []
    assert leases_of(uuid) == []
    assert not cgroup.exists(), "the flavor's gc was not called"


def test_an_error_once_the_pod_is_running_keeps_it_for_gc(host: Host) -> None:
    conf = host.etc / "stage1.d"
    conf.mkdir(parents=True)
    (conf / "failing.json").write_text(json.dumps({"rktKind": "stage1", "rktVersion": "v1",
                                                    "settings": {"failing": {"after_start": True}}}))
    p, uuid = host.run("--net=none")
    assert p.returncode == 254, p
    cgroup, _ = _made(p.stdout)
    assert host.pods() == [f"run/{uuid}"]
    assert json.loads(host("status", "--format=json", uuid).stdout)["state"] == "exited"
    assert cgroup.exists()
    assert host("gc", "--grace-period=0s").returncode == 0
    assert host.pods() == [] and mounts_under(host.data) == [] and leftovers(uuid) == []
    assert not cgroup.exists()


def test_run_prepared_shares_the_start_and_its_undo(host: Host) -> None:
    fetched = host("--insecure-options=image", "fetch", str(host.img))
    assert fetched.returncode == 0, fetched.stderr
    prepared = host("prepare", "--stage1-name=failing", "example.com/failing:1.0")
    assert prepared.returncode == 0, prepared.stderr
    uuid = prepared.stdout.strip()
    assert host.pods() == [f"prepared/{uuid}"]
    p = host("run-prepared", uuid)
    assert p.returncode == 254, p
    assert p.stderr.splitlines() == ["run-prepared: the failing flavor failed: the failing flavor fails on purpose"]
    cgroup, _ = _made(p.stdout)
    assert host.pods() == [] and mounts_under(host.data) == [] and leftovers(uuid) == [] and leases_of(uuid) == []
    assert not cgroup.exists()
