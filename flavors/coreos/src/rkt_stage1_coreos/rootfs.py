"""The app's filesystem: mounts made inside the app's own mount namespace.

Before pivot_root, every mount target in the image is resolved inside the app's root (a
symlink in the image cannot send a mount outside it), opened with ``O_PATH|O_NOFOLLOW``,
checked to still lie inside the root, and mounted on through ``/proc/self/fd``, so the
checked object is the one mounted on. Targets inside the filesystems made here (the
fresh proc, sysfs and /dev tmpfs) hold no link of the image and are used as they are.
After pivot_root no path leads out of the root any more: the kernel paths of /proc and
/sys are masked then, by plain paths.
"""

from __future__ import annotations

import errno
import os

from rkt_sdk.errors import FlavorError
from rkt_sdk.linux.cgroups import Cgroups
from rkt_sdk.linux.mount import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MountError,
    mount,
    resolve_in_root,
)
from rkt_stage1_coreos.plan import AppPlan

#: device nodes bind-mounted from the host into the app's /dev
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
#: devices cgroup (v1) rules: those nodes, ptys, and mknod of anything (opening it stays denied)
DEVICE_RULES = ["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm",
                "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m"]
#: kernel files hidden behind /dev/null, and directories behind an empty read-only tmpfs
MASKED_FILES = ("/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/sysrq-trigger")
MASKED_DIRS = ("/proc/acpi", "/proc/scsi", "/sys/firmware", "/proc/asound")
#: kernel trees the app may read but not write
READ_ONLY = ("/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs")

_PROC_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC


class Target:
    """An open ``O_PATH`` handle on a mount target inside the root; mount on :attr:`path`.

    :ivar real: the target's host path (as the kernel resolved it).
    """

    def __init__(self, fd: int, real: str) -> None:
        self.fd = fd
        self.path = f"/proc/self/fd/{fd}"
        self.real = real

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def target(root: str, path: str, directory: bool = True, create: bool = True) -> Target | None:
    """Resolve ``path`` inside ``root``, create what is missing, and open it.

    :returns: the open target, or ``None`` when it is missing and ``create`` is False.
    :raises FlavorError: the path leads outside the root or cannot be made.
    """
    host = str(resolve_in_root(root, path))
    prefix = root.rstrip("/") + "/"
    if host != root and not host.startswith(prefix):
        raise FlavorError(f"mount target {path!r} resolves outside the app root")
    if not os.path.lexists(host):
        if not create:
            return None
        try:
            if directory:
                os.makedirs(host, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(host), exist_ok=True)
                os.close(os.open(host, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
        except OSError as e:
            raise FlavorError(f"mount target {path!r} in the app root: {e.strerror}") from None
    try:
        fd = os.open(host, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise FlavorError(f"mount target {path!r} in the app root: {e.strerror}") from None
    real = os.readlink(f"/proc/self/fd/{fd}")
    if real != root and not real.startswith(prefix):
        os.close(fd)
        raise FlavorError(f"mount target {path!r} resolves outside the app root")
    return Target(fd, real)


def _mount_at(root: str, path: str, source: str | None, fstype: str | None, flags: int, data: str | None = None,
              directory: bool = True) -> str:
    """Mount on ``path`` resolved inside ``root``; return the host path mounted on."""
    t = target(root, path, directory)
    assert t is not None
    with t:
        mount(source, t.path, fstype, flags, data)
    return t.real


def _bind_at(root: str, path: str, source: str, read_only: bool, recursive: bool = True, extra: int = 0) -> None:
    directory = os.path.isdir(source)
    t = target(root, path, directory)
    assert t is not None
    with t:
        mount(source, t.path, None, MS_BIND | (MS_REC if recursive else 0))
    if read_only or extra:
        # remount through the path just mounted on, checked again (the new mount now sits there)
        t2 = target(root, path, directory, False)
        assert t2 is not None
        with t2:
            mount(None, t2.path, None, MS_BIND | MS_REMOUNT | (MS_RDONLY if read_only else 0) | extra)


def _dev(root: str) -> None:
    dev = _mount_at(root, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=65536k")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            node = f"{dev}/{name}"
            os.close(os.open(node, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666))
            mount(f"/dev/{name}", node, None, MS_BIND)
    os.mkdir(f"{dev}/pts", 0o755)
    mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
    os.symlink("pts/ptmx", f"{dev}/ptmx")
    os.mkdir(f"{dev}/shm", 0o1777)
    mount("shm", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k")
    os.mkdir(f"{dev}/mqueue", 0o755)
    try:
        mount("mqueue", f"{dev}/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except MountError:
        pass  # a kernel without POSIX message queues
    for name, dest in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(dest, f"{dev}/{name}")


def _cgroups(sys_dir: str, cg: Cgroups) -> None:
    """Mount the app's view of the cgroup filesystems on ``sys_dir``/fs/cgroup (a fresh sysfs)."""
    top = f"{sys_dir}/fs/cgroup"
    items = cg.mountables()
    if len(items) == 1 and items[0].subdir == "":
        mount("cgroup", top, "cgroup2", _PROC_FLAGS | MS_RDONLY)
        return
    mount("tmpfs", top, "tmpfs", _PROC_FLAGS, "mode=755")
    for m in items:
        d = f"{top}/{m.subdir}"
        os.mkdir(d, 0o755)
        mount("cgroup", d, m.fstype, _PROC_FLAGS | MS_RDONLY, m.options or None)
        if m.fstype == "cgroup" and "," in m.subdir:
            # co-mounted controllers (cpu,cpuacct) are also reachable by each name
            for name in m.subdir.split(","):
                if not os.path.lexists(f"{top}/{name}"):
                    os.symlink(m.subdir, f"{top}/{name}")
    mount(None, top, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _PROC_FLAGS)


def prepare(plan: AppPlan, cg: Cgroups | None) -> None:
    """Make the app's mounts under its rootfs (the caller is in a fresh mount namespace).

    Afterwards the caller pivots into ``plan.rootfs`` and calls :func:`finish`.
    """
    root = plan.rootfs
    if os.path.ismount(root):
        # already a mount point (the pod's overlay): only this namespace's copy changes
        mount(None, root, None, MS_BIND | MS_REMOUNT | MS_NODEV)
    else:
        mount(root, root, None, MS_BIND | MS_REC)
        mount(None, root, None, MS_BIND | MS_REMOUNT | MS_NODEV)
    _mount_at(root, "/proc", "proc", "proc", _PROC_FLAGS)
    sys_dir = _mount_at(root, "/sys", "sysfs", "sysfs", _PROC_FLAGS | MS_RDONLY)
    if cg is not None:
        _cgroups(sys_dir, cg)
    _dev(root)
    for v in plan.volumes:
        _bind_at(root, v.target, v.source, v.read_only, v.recursive, MS_NODEV)
    if plan.resolv_conf:
        _bind_at(root, "/etc/resolv.conf", plan.resolv_conf, read_only=True, recursive=False)
    if plan.hosts:
        _bind_at(root, "/etc/hosts", plan.hosts, read_only=True, recursive=False)


def _mount_if_there(source: str | None, path: str, fstype: str | None, flags: int, data: str | None = None) -> bool:
    if not os.path.exists(path):  # a stat costs less than a failed mount and its exception
        return False
    try:
        mount(source, path, fstype, flags, data)
    except MountError as e:
        if e.errno == errno.ENOENT:  # gone meanwhile (a process's entry)
            return False
        raise
    return True


def _masks() -> None:
    """Mask kernel paths of the app's /proc and /sys (after pivot_root: paths inside the root)."""
    for p in MASKED_FILES:
        _mount_if_there("/dev/null", p, None, MS_BIND)
    for p in MASKED_DIRS:
        _mount_if_there("tmpfs", p, "tmpfs", MS_RDONLY | _PROC_FLAGS, "size=0")
    for p in READ_ONLY:
        if _mount_if_there(p, p, None, MS_BIND | MS_REC):
            mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _PROC_FLAGS)


def finish(plan: AppPlan) -> None:
    """After pivot_root: mask kernel paths, and make the root read-only if the pod manifest asks."""
    if plan.mask_paths:
        _masks()
    if plan.read_only_rootfs:
        mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV)
