"""Seccomp filters built in Python: system call sets, a BPF program, and its installation.

No libseccomp: the filter is a classic BPF program assembled here. It checks the
architecture first (another ABI, such as 32-bit calls from a 64-bit process, kills the
process), then finds the system call number by a binary search over number ranges, so
each call costs a handful of instructions whatever the size of the set.

Sets are named as in rkt and the appc spec: system call names, plus the groups
``@appc.io/all``, ``@appc.io/empty``, ``@rkt/default-blacklist``, ``@rkt/default-whitelist``
and their ``@docker/...`` counterparts.
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import os
import struct

from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JA = 0x05
_RET_K = 0x06

#: system calls that change the host, the kernel or other processes, or that open new
#: kernel attack surface; blocked by the default filter (the remove-set counterpart of
#: the default whitelist)
DEFAULT_BLACKLIST = frozenset({
    "acct", "add_key", "adjtimex", "afs_syscall", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "getpmsg",
    "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "putpmsg", "query_module", "quotactl", "quotactl_fd",
    "reboot", "request_key", "security", "setns", "settimeofday", "swapoff", "swapon", "_sysctl", "sysfs",
    "syslog", "tuxcall", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup", "vserver",
    "lsm_set_self_attr",
})


class SeccompError(RktError):
    """A seccomp set or filter is invalid, or the kernel refused it."""


def syscall_table(machine: str | None = None) -> dict[str, int]:
    """System call numbers by name for ``machine`` (default: this one)."""
    machine = machine or os.uname().machine
    if machine == "x86_64":
        from rkt_sdk.linux.syscalls import X86_64

        return X86_64
    raise SeccompError(f"machine {machine!r}: no system call table, seccomp filters unsupported")


def _group(name: str, table: dict[str, int]) -> frozenset[str]:
    if name == "@appc.io/all":
        return frozenset(table)
    if name == "@appc.io/empty":
        return frozenset()
    if name in ("@rkt/default-blacklist", "@docker/default-blacklist"):
        return DEFAULT_BLACKLIST & frozenset(table)
    if name in ("@rkt/default-whitelist", "@docker/default-whitelist"):
        return frozenset(table) - DEFAULT_BLACKLIST
    raise SeccompError(f"seccomp set: unknown group {name!r}")


def expand(names: Iterable[str], machine: str | None = None) -> frozenset[str]:
    """Expand a set of system call names and ``@group`` names into system call names.

    :raises SeccompError: a name is neither a known system call nor a known group.
    """
    table = syscall_table(machine)
    out: set[str] = set()
    for n in names:
        if n.startswith("@"):
            out |= _group(n, table)
        elif n in table:
            out.add(n)
        else:
            raise SeccompError(f"seccomp set: unknown system call {n!r}")
    return frozenset(out)


def errno_number(name: str) -> int:
    """The number of an errno name (``EPERM``, ``ENOTSUP`` ...)."""
    value = getattr(errno_mod, name.upper(), None) if name.upper().startswith("E") else None
    if not isinstance(value, int):
        raise SeccompError(f"seccomp errno: unknown errno name {name!r}")
    return value


class SeccompPolicy(Record):
    """Which system calls an app may make, and what a blocked one gets.

    :ivar mode: ``"retain"`` (only ``syscalls`` are allowed) or ``"remove"`` (all but them).
    :ivar syscalls: system call names (groups already expanded).
    :ivar errno: the error a blocked call returns; ``None`` kills the process (SIGSYS).
    """

    mode: str
    syscalls: frozenset[str]
    errno: int | None = None

    @classmethod
    def default(cls) -> SeccompPolicy:
        """The default filter: the default whitelist, blocked calls failing with EPERM."""
        return cls("retain", expand(["@rkt/default-whitelist"]), errno_mod.EPERM)


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _search(starts: list[int], actions: list[int]) -> list[bytes]:
    """Binary search over ranges: range i is [starts[i], starts[i+1]) and returns actions[i]."""
    if len(actions) == 1:
        return [_insn(_RET_K, 0, 0, actions[0])]
    mid = len(actions) // 2
    left = _search(starts[:mid], actions[:mid])
    right = _search(starts[mid:], actions[mid:])
    # nr >= pivot: fall through to the jump over the left half; else skip that jump
    return [_insn(_JGE_K, 0, 1, starts[mid]), _insn(_JA, 0, 0, len(left)), *left, *right]


def build_filter(policy: SeccompPolicy, machine: str | None = None) -> bytes:
    """Assemble the BPF program for ``policy``: an array of ``struct sock_filter``.

    System call numbers above the highest one this table knows fail with ENOSYS (callers
    fall back from newer calls), whatever the mode.
    """
    table = syscall_table(machine)
    deny = SECCOMP_RET_KILL_PROCESS if policy.errno is None else SECCOMP_RET_ERRNO | (policy.errno & 0xFFFF)
    listed = {table[n] for n in policy.syscalls}
    top = max(table.values()) + 1
    on, off = (SECCOMP_RET_ALLOW, deny) if policy.mode == "retain" else (deny, SECCOMP_RET_ALLOW)
    if policy.mode not in ("retain", "remove"):
        raise SeccompError(f"seccomp mode {policy.mode!r}: must be retain or remove")
    starts: list[int] = []
    actions: list[int] = []
    for nr in range(top):
        act = on if nr in listed else off
        if not actions or actions[-1] != act:
            starts.append(nr)
            actions.append(act)
    enosys = SECCOMP_RET_ERRNO | errno_mod.ENOSYS
    if actions[-1] != enosys:
        starts.append(top)
        actions.append(enosys)
    prog = [
        _insn(_LD_W_ABS, 0, 0, 4),                              # A = seccomp_data.arch
        _insn(_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _insn(_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        _insn(_LD_W_ABS, 0, 0, 0),                              # A = seccomp_data.nr
        _insn(_JGE_K, 0, 1, _X32_SYSCALL_BIT),
        _insn(_RET_K, 0, 0, deny),
        *_search(starts, actions),
    ]
    if len(prog) > 4096:
        raise SeccompError(f"seccomp filter: {len(prog)} instructions, more than the kernel's 4096")
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def install(program: bytes) -> None:
    """Install a filter from :func:`build_filter` on the calling process (kept across exec).

    The caller needs ``no_new_privs`` set or CAP_SYS_ADMIN.
    """
    from rkt_sdk.linux.ns import syscall_number

    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    # seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog)
    if _libc.syscall(ctypes.c_long(syscall_number("seccomp")), ctypes.c_long(1), ctypes.c_long(0),
                    ctypes.byref(prog)) != 0:
        err = ctypes.get_errno()
        raise SeccompError(f"installing seccomp filter: {os.strerror(err)}")
