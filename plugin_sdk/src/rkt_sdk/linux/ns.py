"""Linux namespaces and process attributes through ctypes: unshare, setns, pivot_root, prctl.

Python 3.11 has no ``os.unshare``/``os.setns``; these wrappers call the C library (or the
raw system call where the C library has no wrapper) and raise :class:`NamespaceError`
naming the operation and the kernel's reason.
"""

from __future__ import annotations

import ctypes
import os

from rkt_sdk.errors import RktError
from rkt_sdk.linux.mount import MNT_DETACH, umount

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

#: namespace file name under /proc/<pid>/ns -> clone flag
NS_FLAGS = {"ipc": CLONE_NEWIPC, "uts": CLONE_NEWUTS, "net": CLONE_NEWNET, "pid": CLONE_NEWPID,
            "cgroup": CLONE_NEWCGROUP, "mnt": CLONE_NEWNS}

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

#: system call numbers the C library has no wrapper for, by machine
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "seccomp": 317, "openat2": 437},
    "aarch64": {"pivot_root": 41, "seccomp": 277, "openat2": 437},
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.syscall.restype = ctypes.c_long


class NamespaceError(RktError):
    """A namespace or process-attribute call failed."""


def syscall_number(name: str) -> int:
    """The number of system call ``name`` on this machine."""
    machine = os.uname().machine
    table = _SYSCALLS.get(machine)
    if table is None:
        raise NamespaceError(f"machine {machine!r}: system call numbers unknown")
    return table[name]


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise NamespaceError(f"{what}: {os.strerror(err)}")
    return ret


def unshare(flags: int) -> None:
    """unshare(2): move the calling process into new namespaces."""
    _check(_libc.unshare(flags), f"unshare(0x{flags:x})")


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2): join the namespace that ``fd`` (an open /proc/<pid>/ns/<kind>) refers to."""
    _check(_libc.setns(fd, nstype), f"setns(fd {fd}, 0x{nstype:x})")


def enter_namespaces(pid: int, kinds: tuple[str, ...] = ("ipc", "uts", "net", "pid", "cgroup", "mnt")) -> None:
    """Join the namespaces of process ``pid``, skipping those the caller already shares.

    All namespace files are opened first, so joining the mount namespace last cannot hide
    the others. The pid namespace applies to children of the caller (fork after this).
    """
    fds: list[tuple[int, str]] = []
    try:
        for kind in kinds:
            path = f"/proc/{pid}/ns/{kind}"
            try:
                if os.stat(path).st_ino == os.stat(f"/proc/self/ns/{kind}").st_ino:
                    continue
            except FileNotFoundError:
                continue
            fds.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), kind))
        for fd, kind in fds:
            setns(fd, NS_FLAGS[kind])
    finally:
        for fd, _ in fds:
            os.close(fd)


def pivot_root(new_root: str) -> None:
    """Make ``new_root`` (a mount point) the root of the calling mount namespace.

    Uses the ``pivot_root(".", ".")`` idiom: the old root is stacked under the new one and
    detached at once, so no directory for it is needed inside ``new_root``.
    """
    os.chdir(new_root)
    _check(_libc.syscall(ctypes.c_long(syscall_number("pivot_root")), b".", b"."), f"pivot_root {new_root}")
    umount(".", MNT_DETACH)
    os.chdir("/")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """prctl(2) with integer arguments."""
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")


def set_dumpable(on: bool) -> None:
    """Mark the process (un)dumpable: an undumpable one's /proc files are closed to its peers."""
    prctl(PR_SET_DUMPABLE, 1 if on else 0)


def set_no_new_privs() -> None:
    """Forbid gaining privileges through execve (setuid bits, file capabilities)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_pdeathsig(sig: int) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies."""
    prctl(PR_SET_PDEATHSIG, sig)


def set_process_name(name: str) -> None:
    """Set the process's comm name (as shown by ps), truncated to 15 bytes."""
    _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    try:
        _libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    finally:
        _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def sethostname(name: str) -> None:
    """sethostname(2) in the calling UTS namespace."""
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), f"sethostname {name!r}")


def missing_namespaces(kinds: tuple[str, ...] = ("mnt", "pid", "uts", "ipc", "net", "cgroup")) -> list[str]:
    """The namespace kinds among ``kinds`` this kernel lacks (empty when all are there)."""
    return [k for k in kinds if not os.path.exists(f"/proc/self/ns/{k}")]
