"""The last steps before an app's (or an ``enter`` command's) execve: credentials, capabilities,
no_new_privs, seccomp, environment.

The order matters: the uid changes with ``PR_SET_KEEPCAPS`` so the permitted set survives;
the bounding set is cut while CAP_SETPCAP is still effective; without no_new_privs the
filter is installed while CAP_SYS_ADMIN is still effective; the final capability sets
come last but one, and execve last.
"""

from __future__ import annotations

import os
import signal
import sys

from rkt_sdk.linux import caps, ns
from rkt_sdk.linux.seccomp import install
from rkt_stage1_coreos.plan import AppPlan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

#: signals Python ignores or handles that must reach the app at their default
_RESET = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD,
          signal.SIGTTOU, signal.SIGTTIN, signal.SIGTSTP, signal.SIGQUIT)


def reset_signals() -> None:
    """Unblock every signal and put the ones Python touched back to their defaults."""
    for sig in _RESET:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def close_fds(*keep: int) -> None:
    """Close every descriptor above 2 except those in ``keep`` (negative ones are ignored)."""
    low = 3
    for fd in sorted(k for k in keep if k > 2):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def take_terminal() -> None:
    """Put the caller in its own process group and make that group the terminal's foreground."""
    if not os.isatty(0):
        return
    os.setpgid(0, 0)
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(0, os.getpgrp())
    finally:
        signal.signal(signal.SIGTTOU, old)


def drop_privileges(plan: AppPlan, ready: Callable[[], None] | None = None) -> None:
    """Become the app's user with its capabilities, no_new_privs and seccomp filter.

    ``ready`` is called once the process runs as the app's user with the app's bounding set,
    before its seccomp filter goes on (a filter installed without no_new_privs needs
    CAP_SYS_ADMIN, dropped last): a child set up ahead of its start waits there.

    Runs after pivot_root: everything it calls is imported at module level, beforehand.
    """
    ns.prctl(ns.PR_SET_KEEPCAPS, 1)
    os.setgroups(list(plan.groups))
    os.setresgid(plan.gid, plan.gid, plan.gid)
    os.setresuid(plan.uid, plan.uid, plan.uid)
    _eff, perm, _inh = caps.capget()
    caps.capset(perm, perm, 0)
    caps.drop_bounding(plan.caps)
    caps.clear_ambient()
    if ready is not None:
        ready()
    if plan.seccomp is not None and not plan.no_new_privs:
        install(plan.seccomp)
    keep = plan.caps & perm
    caps.capset(keep, keep, keep)
    ns.prctl(ns.PR_SET_KEEPCAPS, 0)
    if plan.no_new_privs:
        ns.set_no_new_privs()
        if plan.seccomp is not None:
            install(plan.seccomp)


def exec_app(argv: tuple[str, ...], env: dict[str, str]) -> NoReturn:
    """execve the app's program (its path is absolute, looked up in the new root)."""
    path = argv[0]
    if "/" not in path:
        for d in env.get("PATH", "").split(":"):
            if d and os.access(os.path.join(d, path), os.X_OK):
                path = os.path.join(d, path)
                break
    sys.stdout.flush()
    os.execve(path, list(argv), env)
