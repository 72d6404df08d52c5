"""Linux capabilities: names, sets as bit masks, capset(2) and the bounding set, via ctypes.

A set is an ``int`` whose bit ``n`` is capability number ``n``. :func:`apply` gives the
calling process exactly a set: bounding set cut down to it, inheritable/permitted/effective
equal to it (for root; a non-root user keeps the bounding set only, as the kernel clears
the others at execve), ambient set cleared.
"""

from __future__ import annotations

import ctypes
import functools
import os

from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

#: capability names, by number
NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

#: rkt's default set for apps
DEFAULT_RETAIN = frozenset({
    "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_KILL", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETFCAP",
    "CAP_SYS_CHROOT",
})

PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_VERSION_3 = 0x20080522


class CapabilityError(RktError):
    """A capability name is unknown or the kernel refused a capability change."""


@functools.cache
def last_cap() -> int:
    """The highest capability number this kernel knows (read once per process)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(NAMES) - 1


def number(name: str) -> int:
    """The number of capability ``name`` (``CAP_SYS_ADMIN``; the prefix and case are optional)."""
    n = name.strip().upper()
    if not n.startswith("CAP_"):
        n = "CAP_" + n
    try:
        return NAMES.index(n)
    except ValueError:
        raise CapabilityError(f"unknown capability {name!r}") from None


def mask(names: Iterable[str]) -> int:
    """The set holding the named capabilities."""
    m = 0
    for n in names:
        m |= 1 << number(n)
    return m


def full_mask() -> int:
    """Every capability the kernel knows."""
    return (1 << (last_cap() + 1)) - 1


def names(m: int) -> list[str]:
    """The names of the capabilities in set ``m``, by number."""
    return [NAMES[i] if i < len(NAMES) else f"CAP_{i}" for i in range(m.bit_length()) if m >> i & 1]


class ProcessCaps(Record):
    """The capability sets of a process as /proc/<pid>/status shows them."""

    inheritable: int
    permitted: int
    effective: int
    bounding: int
    ambient: int


def parse_status(text: str) -> ProcessCaps:
    """Read the Cap* lines of a /proc/<pid>/status text."""
    vals = {}
    for line in text.splitlines():
        if line.startswith("Cap"):
            key, _, v = line.partition(":")
            vals[key] = int(v.strip(), 16)
    return ProcessCaps(vals.get("CapInh", 0), vals.get("CapPrm", 0), vals.get("CapEff", 0),
                       vals.get("CapBnd", 0), vals.get("CapAmb", 0))


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """capset(2) on the calling thread."""
    hdr = _Header(_VERSION_3, 0)
    data = (_Data * 2)()
    for i in range(2):
        data[i].effective = (effective >> (32 * i)) & 0xFFFFFFFF
        data[i].permitted = (permitted >> (32 * i)) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> (32 * i)) & 0xFFFFFFFF
    if _libc.capset(ctypes.byref(hdr), data) != 0:
        err = ctypes.get_errno()
        raise CapabilityError(f"capset {names(permitted)}: {os.strerror(err)}")


def capget() -> tuple[int, int, int]:
    """The calling thread's (effective, permitted, inheritable) sets."""
    hdr = _Header(_VERSION_3, 0)
    data = (_Data * 2)()
    if _libc.capget(ctypes.byref(hdr), data) != 0:
        raise CapabilityError(f"capget: {os.strerror(ctypes.get_errno())}")
    e = data[0].effective | data[1].effective << 32
    p = data[0].permitted | data[1].permitted << 32
    i = data[0].inheritable | data[1].inheritable << 32
    return e, p, i


def drop_bounding(keep: int) -> None:
    """Remove every capability not in ``keep`` from the bounding set (needs CAP_SETPCAP)."""
    for cap in range(last_cap() + 1):
        if not keep >> cap & 1 and _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            if err != 22:  # EINVAL: the kernel lacks it
                raise CapabilityError(f"dropping {names(1 << cap)} from the bounding set: {os.strerror(err)}")


def clear_ambient() -> None:
    """Empty the ambient set (ignored by kernels without one)."""
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def apply(keep: int) -> None:
    """Leave the calling process with capability set ``keep`` (bounding, permitted, effective, inheritable).

    Call it after changing uid with ``PR_SET_KEEPCAPS`` set (or as root): the permitted set
    must still hold ``keep``.
    """
    drop_bounding(keep)
    clear_ambient()
    capset(keep, keep, keep)
