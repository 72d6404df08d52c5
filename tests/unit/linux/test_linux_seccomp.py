"""rkt_sdk.linux.seccomp: sets, the BPF program, and filters installed on a real process."""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import struct

import pytest

from rkt_sdk.linux import ns, seccomp
from tests.unit.linux.conftest import in_child


def test_groups_expand() -> None:
    all_ = seccomp.expand(["@appc.io/all"])
    assert "read" in all_ and "mount" in all_
    assert seccomp.expand(["@appc.io/empty"]) == frozenset()
    white = seccomp.expand(["@rkt/default-whitelist"])
    assert "read" in white and "mount" not in white and "unshare" not in white
    assert seccomp.expand(["@docker/default-blacklist", "socket"]) >= {"mount", "socket", "ptrace"}


def test_unknown_names_are_reported() -> None:
    with pytest.raises(seccomp.SeccompError, match="frobnicate"):
        seccomp.expand(["frobnicate"])
    with pytest.raises(seccomp.SeccompError, match="@nope/x"):
        seccomp.expand(["@nope/x"])
    with pytest.raises(seccomp.SeccompError, match="EWHAT"):
        seccomp.errno_number("EWHAT")
    assert seccomp.errno_number("ENOTSUP") == errno.ENOTSUP


def test_program_checks_the_architecture_first_and_stays_small() -> None:
    prog = seccomp.build_filter(seccomp.SeccompPolicy.default())
    insns = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    assert insns[0] == (0x20, 0, 0, 4)  # load arch
    assert insns[1][3] == seccomp.AUDIT_ARCH_X86_64
    assert insns[2] == (0x06, 0, 0, seccomp.SECCOMP_RET_KILL_PROCESS)
    assert len(insns) < 200  # ranges, not one comparison per call


def _uname_errno() -> int:
    try:
        os.uname()
    except OSError as e:
        return e.errno or 0
    return 0


@pytest.mark.usefixtures("root_only")
def test_remove_set_with_errno_blocks_only_that_call() -> None:
    prog = seccomp.build_filter(seccomp.SeccompPolicy("remove", seccomp.expand(["uname"]), errno.EXFULL))

    def child() -> list[int]:
        ns.set_no_new_privs()
        seccomp.install(prog)
        return [_uname_errno(), os.getpid() > 0]

    assert in_child(child) == (0, [errno.EXFULL, True])


@pytest.mark.usefixtures("root_only")
def test_blocked_call_without_errno_kills_with_sigsys() -> None:
    prog = seccomp.build_filter(seccomp.SeccompPolicy("remove", seccomp.expand(["uname"]), None))

    def child() -> int:
        ns.set_no_new_privs()
        seccomp.install(prog)
        return _uname_errno()

    code, out = in_child(child)
    assert code == -signal.SIGSYS and out is None


@pytest.mark.usefixtures("root_only")
def test_default_filter_blocks_user_namespaces_and_unknown_numbers() -> None:
    prog = seccomp.build_filter(seccomp.SeccompPolicy.default())

    def child() -> list[object]:
        ns.set_no_new_privs()
        seccomp.install(prog)
        try:
            ns.unshare(ns.CLONE_NEWUSER)
            unshared = "allowed"
        except ns.NamespaceError as e:
            unshared = str(e)
        libc = ctypes.CDLL(None, use_errno=True)
        ret = libc.syscall(ctypes.c_long(1000))
        return [unshared, ret, ctypes.get_errno(), _uname_errno()]

    code, (unshared, ret, err, uname_err) = in_child(child)
    assert code == 0
    assert "Operation not permitted" in unshared
    assert (ret, err) == (-1, errno.ENOSYS)
    assert uname_err == 0


def test_bad_mode_is_refused() -> None:
    with pytest.raises(seccomp.SeccompError, match="sideways"):
        seccomp.build_filter(seccomp.SeccompPolicy("sideways", frozenset()))
