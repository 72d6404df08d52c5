"""rkt_sdk.linux.cgroups: layout detection and cgroup files on fake v1/v2/hybrid trees, and
a real cgroup on this host."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rkt_sdk.linux import cgroups
from rkt_sdk.linux.cgroups import CgroupError, V1Cgroups, V2Cgroups, detect
from tests.unit.linux.conftest import in_child

V1_CTRLS = {"cpu,cpuacct": "rw,cpu,cpuacct", "memory": "rw,memory", "cpuset": "rw,cpuset",
            "devices": "rw,devices", "systemd": "rw,xattr,name=systemd"}


def _mountinfo(root: Path, v1: bool, unified: bool, v2_root: bool = False) -> str:
    lines = [f"20 1 0:18 / {root} rw,nosuid - tmpfs tmpfs rw,mode=755"]
    n = 30
    if v2_root:
        lines = [f"21 1 0:19 / {root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"]
    if v1:
        for d, opts in V1_CTRLS.items():
            lines.append(f"{n} 20 0:{n} / {root}/{d} rw,nosuid - cgroup cgroup {opts}")
            n += 1
    if unified:
        lines.append(f"{n} 20 0:{n} / {root}/unified rw,nosuid - cgroup2 cgroup2 rw")
    lines.append("99 1 0:99 / /elsewhere rw - cgroup cgroup rw,pids")
    return "\n".join(lines) + "\n"


def _fake_v1(root: Path) -> None:
    for d in V1_CTRLS:
        (root / d).mkdir(parents=True)
    (root / "cpuset" / "cpuset.cpus").write_text("0-3\n")
    (root / "cpuset" / "cpuset.mems").write_text("0\n")


def test_detect_v1_hybrid_and_v2(tmp_path: Path) -> None:
    v1 = detect(tmp_path, _mountinfo(tmp_path, v1=True, unified=False))
    assert isinstance(v1, V1Cgroups) and v1.version == "v1"
    # only the hierarchies of the controllers put to use
    assert [h.options for h in v1.hierarchies] == ["cpu,cpuacct", "devices", "memory"]
    every = detect(tmp_path, _mountinfo(tmp_path, v1=True, unified=False),
                   controllers=frozenset({"cpu", "cpuset", "devices", "memory", "name=systemd"}))
    assert isinstance(every, V1Cgroups)
    assert [h.options for h in every.hierarchies] == ["cpu,cpuacct", "cpuset", "devices", "memory", "name=systemd"]
    hybrid = detect(tmp_path, _mountinfo(tmp_path, v1=True, unified=True))
    assert hybrid.version == "hybrid"
    assert [m.subdir for m in hybrid.mountables()] == ["cpu,cpuacct", "devices", "memory"]
    v2 = detect(tmp_path, _mountinfo(tmp_path, v1=False, unified=False, v2_root=True))
    assert isinstance(v2, V2Cgroups) and v2.root == tmp_path
    with pytest.raises(CgroupError, match="no cgroup filesystem"):
        detect(tmp_path, f"20 1 0:18 / {tmp_path} rw - tmpfs tmpfs rw\n")


def test_v1_create_limits_and_devices_on_a_fake_tree(tmp_path: Path) -> None:
    _fake_v1(tmp_path)
    cg = detect(tmp_path, _mountinfo(tmp_path, v1=True, unified=True), controllers=frozenset(V1_CTRLS) | {"cpuset",
                "cpu", "name=systemd"})
    cg.create("machine.slice/rkt-x/apps/web")
    for d in V1_CTRLS:
        assert (tmp_path / d / "machine.slice/rkt-x/apps/web").is_dir()
    assert not (tmp_path / "unified/machine.slice").exists()
    # cpuset cgroups start empty: cpus and mems are copied down from the parent
    assert (tmp_path / "cpuset/machine.slice/rkt-x/apps/web/cpuset.cpus").read_text() == "0-3\n"
    cg.set_memory_limit("machine.slice/rkt-x/apps/web", 64 * 2**20)
    assert (tmp_path / "memory/machine.slice/rkt-x/apps/web/memory.limit_in_bytes").read_text() == "67108864\n"
    assert cg.memory_limit("machine.slice/rkt-x/apps/web") == 67108864
    cg.set_cpu_limit("machine.slice/rkt-x/apps/web", 500)
    cpu = tmp_path / "cpu,cpuacct/machine.slice/rkt-x/apps/web"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000\n"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000\n"
    cg.set_cpu_shares("machine.slice/rkt-x/apps/web", 512)
    assert (cpu / "cpu.shares").read_text() == "512\n"
    assert cg.restrict_devices("machine.slice/rkt-x", ["c 1:3 rwm"])
    assert (tmp_path / "devices/machine.slice/rkt-x/devices.allow").read_text() == "c 1:3 rwm\n"


def test_v2_create_enables_controllers_and_writes_limits(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    cg = detect(tmp_path, _mountinfo(tmp_path, v1=False, unified=False, v2_root=True))
    cg.create("machine.slice/rkt-y/apps/db")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +cpu +pids +io\n"
    assert (tmp_path / "machine.slice/rkt-y/cgroup.subtree_control").read_text() == "+memory +cpu +pids +io\n"
    cg.set_memory_limit("machine.slice/rkt-y/apps/db", 1000)
    assert (tmp_path / "machine.slice/rkt-y/apps/db/memory.max").read_text() == "1000\n"
    cg.set_cpu_limit("machine.slice/rkt-y/apps/db", 250)
    assert (tmp_path / "machine.slice/rkt-y/apps/db/cpu.max").read_text() == "25000 100000\n"
    cg.set_cpu_shares("machine.slice/rkt-y/apps/db", 1024)
    assert (tmp_path / "machine.slice/rkt-y/apps/db/cpu.weight").read_text() == "39\n"
    assert not cg.restrict_devices("machine.slice/rkt-y", ["c 1:3 rwm"])
    assert cg.mountables() == [cgroups.Mountable("", "cgroup2", "")]


@pytest.mark.usefixtures("root_only")
def test_real_cgroup_limit_attach_and_remove() -> None:
    cg = detect()
    path = f"rkt-unit-test-{os.getpid()}"
    cg.create(f"{path}/inner")
    try:
        cg.set_memory_limit(f"{path}/inner", 16 * 2**20)
        assert cg.memory_limit(f"{path}/inner") == 16 * 2**20
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            cg.attach(f"{path}/inner")
            os.write(w, b"x")
            time.sleep(30)
            os._exit(0)
        os.read(r, 1)
        assert cg.procs(f"{path}/inner") == [pid]
        # remove kills what is left in the cgroup before removing it
        cg.remove(path)
        assert not cg.exists(path)
        _, status = os.waitpid(pid, 0)
        assert os.WTERMSIG(status) == 9
    finally:
        cg.remove(path)


@pytest.mark.usefixtures("root_only")
def test_remove_with_every_hierarchy_reaches_unmanaged_ones() -> None:
    every = detect(controllers=None)
    path = f"rkt-unit-test-all-{os.getpid()}"
    every.create(f"{path}/x")
    try:
        managed = detect()
        managed.remove(path)
        left = [d for d in every.dirs(path) if d.is_dir()]
        assert left == [d for d in every.dirs(path) if d not in managed.dirs(path)]
        every.remove(path)
        assert not every.exists(path)
    finally:
        every.remove(path)


@pytest.mark.usefixtures("root_only")
def test_real_memory_limit_is_enforced() -> None:
    cg = detect()
    path = f"rkt-unit-test-oom-{os.getpid()}"
    cg.create(path)
    try:
        cg.set_memory_limit(path, 16 * 2**20)

        def child() -> int:
            cg.attach(path)
            blob = bytearray(64 * 2**20)
            return len(blob)

        code, _ = in_child(child)
        assert code == -9
    finally:
        cg.remove(path)
