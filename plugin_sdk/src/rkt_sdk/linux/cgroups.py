"""Control groups behind one small interface, for cgroup v1, v2 and hybrid hosts.

:func:`detect` reads a host's layout from its cgroup root and the text of
``/proc/self/mountinfo`` (both parameters, so tests can hand it a fake tree) and returns a
:class:`Cgroups` whose methods take cgroup paths relative to the hierarchy roots
(``machine.slice/rkt-<uuid>/app``):

- :class:`V1Cgroups`: one directory per hierarchy in use (memory, cpu, cpuacct, pids,
  devices by default); on a hybrid host the controller-less v2 tree is left alone.
- :class:`V2Cgroups`: the single unified tree; controllers are enabled down the path.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from rkt_sdk.errors import RktError
from rkt_sdk.quantities import parse_cpu, parse_memory
from rkt_sdk.record import Record

# parse_cpu and parse_memory live in rkt_sdk.quantities and stay importable from here
__all__ = ["CPU_PERIOD_US", "MANAGED_V1", "V1_CONTROLLERS", "CgroupError", "Cgroups", "Hierarchy", "Mountable",
           "V1Cgroups", "V2Cgroups", "detect", "parse_cpu", "parse_layout", "parse_memory"]

#: v1 controllers this module knows how to mount and name
V1_CONTROLLERS = frozenset({"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio",
                            "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"})
#: v1 controllers whose hierarchies :func:`detect` puts to use (the others cost time, give nothing)
MANAGED_V1 = frozenset({"cpu", "cpuacct", "memory", "pids", "devices"})
CPU_PERIOD_US = 100_000


class CgroupError(RktError):
    """A cgroup could not be created, configured, read or removed."""


def _write(path: str | Path, value: str) -> None:
    # one open and one write(2): a cgroup file takes each write as one command
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise CgroupError(f"writing {value.strip()!r} to {path}: {e.strerror}") from None


def _read(path: Path) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise CgroupError(f"reading {path}: {e.strerror}") from None


class Mountable(Record):
    """A cgroup filesystem to mount inside a container: where (under /sys/fs/cgroup), type and options."""

    subdir: str
    fstype: str
    options: str


class Cgroups:
    """The operations a flavor needs on a host's cgroups; paths are relative to the hierarchy roots."""

    version = ""

    def __init__(self, root: Path) -> None:
        self.root = root

    def dirs(self, path: str) -> list[Path]:
        """The directories of cgroup ``path`` in every hierarchy in use."""
        raise NotImplementedError

    def create(self, path: str) -> None:
        """Make cgroup ``path`` (and its parents) in every hierarchy."""
        raise NotImplementedError

    def attach(self, path: str, pid: int = 0) -> None:
        """Move process ``pid`` (0: the calling process, which must be single-threaded) into cgroup ``path``."""
        for d in self.dirs(path):
            _write(d / "cgroup.procs", f"{pid}\n")

    def set_memory_limit(self, path: str, limit: int) -> None:
        """Limit the memory of cgroup ``path`` to ``limit`` bytes (over it, the kernel OOM-kills)."""
        raise NotImplementedError

    def memory_limit(self, path: str) -> int | None:
        """The memory limit of cgroup ``path`` in bytes, ``None`` if unlimited."""
        raise NotImplementedError

    def set_cpu_limit(self, path: str, millicores: int) -> None:
        """Cap cgroup ``path`` at ``millicores``/1000 CPUs."""
        raise NotImplementedError

    def set_cpu_shares(self, path: str, shares: int) -> None:
        """Set the relative CPU weight of cgroup ``path`` (v1 shares, converted on v2)."""
        raise NotImplementedError

    def restrict_devices(self, path: str, allow: list[str]) -> bool:
        """Deny every device but ``allow`` (v1 ``devices.allow`` lines); False where unsupported."""
        return False

    def procs(self, path: str) -> list[int]:
        """The processes in cgroup ``path`` (host pids), from the first hierarchy."""
        dirs = self.dirs(path)
        if not dirs:
            return []
        try:
            return [int(x) for x in _read(dirs[0] / "cgroup.procs").split()]
        except CgroupError:
            return []

    def exists(self, path: str) -> bool:
        """Whether cgroup ``path`` exists in any hierarchy."""
        return any(d.is_dir() for d in self.dirs(path))

    def mountables(self) -> list[Mountable]:
        """The cgroup filesystems a container's /sys/fs/cgroup should hold."""
        raise NotImplementedError

    def remove(self, path: str, timeout: float = 2.0) -> None:
        """Remove cgroup ``path`` and its descendants everywhere, killing stragglers; idempotent."""
        deadline = time.monotonic() + timeout
        for top in self.dirs(path):
            if not top.is_dir():
                continue
            for dirpath, _dirs, _files in os.walk(top, topdown=False):
                _rmdir(Path(dirpath), deadline)


def _rmdir(d: Path, deadline: float) -> None:
    while True:
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if time.monotonic() > deadline:
                raise CgroupError(f"removing cgroup {d}: {e.strerror}") from None
            try:
                pids = [int(x) for x in (d / "cgroup.procs").read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)


class Hierarchy(Record):
    """A v1 hierarchy: its mount point and the controllers (or ``name=``) it carries."""

    path: Path
    controllers: tuple[str, ...]

    @property
    def options(self) -> str:
        return ",".join(self.controllers)


class V1Cgroups(Cgroups):
    """cgroup v1 (legacy) and hybrid hosts: one tree per hierarchy, limits in their own files.

    On a hybrid host the v2 tree (``unified``) carries no controller and is left alone:
    moving a process there costs an RCU grace period and buys nothing.
    """

    def __init__(self, root: Path, hierarchies: list[Hierarchy], unified: Path | None = None) -> None:
        super().__init__(root)
        self.hierarchies = hierarchies
        self.unified = unified
        self.version = "hybrid" if unified else "v1"

    def attach(self, path: str, pid: int = 0) -> None:
        # the caller moving itself goes through "tasks": the kernel then skips the global
        # threadgroup lock (and its RCU grace period) that "cgroup.procs" takes
        name = "tasks" if pid == 0 else "cgroup.procs"
        for h in self.hierarchies:
            _write(f"{h.path}/{path}/{name}", f"{pid}\n")

    def _h(self, controller: str) -> Hierarchy | None:
        for h in self.hierarchies:
            if controller in h.controllers:
                return h
        return None

    def _dir(self, controller: str, path: str) -> Path:
        h = self._h(controller)
        if h is None:
            raise CgroupError(f"no cgroup v1 hierarchy with the {controller} controller under {self.root}")
        return h.path / path

    def dirs(self, path: str) -> list[Path]:
        return [h.path / path for h in self.hierarchies]

    def remove(self, path: str, timeout: float = 2.0) -> None:
        super().remove(path, timeout)
        if self.unified is not None and (self.unified / path).is_dir():
            deadline = time.monotonic() + timeout
            for dirpath, _dirs, _files in os.walk(self.unified / path, topdown=False):
                _rmdir(Path(dirpath), deadline)

    def create(self, path: str) -> None:
        for h in self.hierarchies:
            if "cpuset" in h.controllers:
                _make_cpuset(h.path, path)
                continue
            d = f"{h.path}/{path}"
            try:
                os.mkdir(d)  # the parent usually exists: one system call
            except FileExistsError:
                pass
            except FileNotFoundError:
                try:
                    os.makedirs(d, exist_ok=True)
                except OSError as e:
                    raise CgroupError(f"creating cgroup {d}: {e.strerror}") from None
            except OSError as e:
                raise CgroupError(f"creating cgroup {d}: {e.strerror}") from None

    def set_memory_limit(self, path: str, limit: int) -> None:
        _write(self._dir("memory", path) / "memory.limit_in_bytes", f"{limit}\n")

    def memory_limit(self, path: str) -> int | None:
        v = int(_read(self._dir("memory", path) / "memory.limit_in_bytes"))
        return None if v >= 0x7FFFFFFFFFFFF000 else v

    def set_cpu_limit(self, path: str, millicores: int) -> None:
        d = self._dir("cpu", path)
        _write(d / "cpu.cfs_period_us", f"{CPU_PERIOD_US}\n")
        _write(d / "cpu.cfs_quota_us", f"{millicores * CPU_PERIOD_US // 1000}\n")

    def set_cpu_shares(self, path: str, shares: int) -> None:
        _write(self._dir("cpu", path) / "cpu.shares", f"{shares}\n")

    def restrict_devices(self, path: str, allow: list[str]) -> bool:
        if self._h("devices") is None:
            return False
        d = self._dir("devices", path)
        _write(d / "devices.deny", "a\n")
        for rule in allow:
            _write(d / "devices.allow", f"{rule}\n")
        return True

    def mountables(self) -> list[Mountable]:
        return [Mountable(h.path.name, "cgroup", h.options) for h in self.hierarchies]


def _make_cpuset(top: Path, path: str) -> None:
    """Create a v1 cpuset cgroup level by level, copying cpus and mems from each parent."""
    parent = top
    for part in [p for p in path.split("/") if p]:
        d = parent / part
        if not d.is_dir():
            try:
                d.mkdir()
            except FileExistsError:
                pass
            except OSError as e:
                raise CgroupError(f"creating cgroup {d}: {e.strerror}") from None
            for name in ("cpuset.cpus", "cpuset.mems"):
                f = d / name
                if not f.exists() or not _read(f).strip():
                    _write(f, _read(parent / name))
        parent = d


class V2Cgroups(Cgroups):
    """cgroup v2 (unified) hosts: one tree; controllers enabled in each ancestor's subtree_control."""

    version = "v2"
    wanted = ("memory", "cpu", "pids", "io")

    def dirs(self, path: str) -> list[Path]:
        return [self.root / path]

    def create(self, path: str) -> None:
        d = self.root
        try:
            available = set(_read(self.root / "cgroup.controllers").split())
        except CgroupError:
            available = set()
        enable = " ".join(f"+{c}" for c in self.wanted if c in available)
        for part in [p for p in path.split("/") if p]:
            if enable:
                have = set(_read(d / "cgroup.subtree_control").split()) if (d / "cgroup.subtree_control").exists() \
                    else set()
                if not {c.lstrip("+") for c in enable.split()} <= have:
                    _write(d / "cgroup.subtree_control", enable + "\n")
            d = d / part
            try:
                d.mkdir(exist_ok=True)
            except OSError as e:
                raise CgroupError(f"creating cgroup {d}: {e.strerror}") from None
            if enable and not (d / "cgroup.controllers").exists():
                # a plain directory (a fake tree in tests): advertise what the parent gave
                _write(d / "cgroup.controllers", " ".join(sorted(available)) + "\n")

    def set_memory_limit(self, path: str, limit: int) -> None:
        _write(self.root / path / "memory.max", f"{limit}\n")

    def memory_limit(self, path: str) -> int | None:
        v = _read(self.root / path / "memory.max").strip()
        return None if v == "max" else int(v)

    def set_cpu_limit(self, path: str, millicores: int) -> None:
        _write(self.root / path / "cpu.max", f"{millicores * CPU_PERIOD_US // 1000} {CPU_PERIOD_US}\n")

    def set_cpu_shares(self, path: str, shares: int) -> None:
        shares = min(max(shares, 2), 262144)
        weight = 1 + ((shares - 2) * 9999) // 262142
        _write(self.root / path / "cpu.weight", f"{weight}\n")

    def mountables(self) -> list[Mountable]:
        return [Mountable("", "cgroup2", "")]


class _Parsed:
    """What :func:`parse_layout` found: a v2 root, a hybrid host's unified tree, the v1 hierarchies."""

    __slots__ = ("hierarchies", "unified", "v2_root")

    def __init__(self) -> None:
        self.v2_root = False
        self.unified: Path | None = None
        self.hierarchies: list[Hierarchy] = []


def _unescape(s: str) -> str:
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_layout(root: Path, mountinfo: str) -> _Parsed:
    """Find the cgroup filesystems mounted at or directly under ``root`` in a mountinfo text."""
    out = _Parsed()
    seen: set[tuple[str, ...]] = set()
    for line in mountinfo.splitlines():
        if "cgroup" not in line:  # most mounts: not worth splitting
            continue
        parts = line.split(" ")
        if "-" not in parts[6:]:
            continue
        sep = parts.index("-", 6)
        if len(parts) < sep + 4:
            continue
        mpoint = Path(_unescape(parts[4]))
        fstype, super_opts = parts[sep + 1], parts[sep + 3]
        if fstype == "cgroup2":
            if mpoint == root:
                out.v2_root = True
            elif mpoint.parent == root:
                out.unified = mpoint
        elif fstype == "cgroup" and mpoint.parent == root:
            ctrls = tuple(o for o in super_opts.split(",") if o in V1_CONTROLLERS or o.startswith("name="))
            if ctrls and ctrls not in seen:
                seen.add(ctrls)
                out.hierarchies.append(Hierarchy(mpoint, ctrls))
    return out


def detect(root: Path = Path("/sys/fs/cgroup"), mountinfo: str | None = None,
           controllers: frozenset[str] | None = MANAGED_V1) -> Cgroups:
    """The cgroup layout of the host whose cgroups are mounted at ``root``.

    :param mountinfo: the text of ``/proc/self/mountinfo`` (read when ``None``).
    :param controllers: on v1, use the hierarchies carrying any of these controllers
        (``None``: every hierarchy, e.g. to remove cgroups whatever made them).
    :raises CgroupError: no cgroup filesystem is mounted there.
    """
    if mountinfo is None:
        with open("/proc/self/mountinfo") as f:
            mountinfo = f.read()
    layout = parse_layout(root, mountinfo)
    if layout.v2_root:
        return V2Cgroups(root)
    used = [h for h in layout.hierarchies if controllers is None or set(h.controllers) & controllers]
    if used:
        return V1Cgroups(root, sorted(used, key=lambda h: h.path.name), layout.unified)
    if layout.unified is not None:
        return V2Cgroups(layout.unified)
    raise CgroupError(f"no cgroup filesystem mounted at or under {root}")
