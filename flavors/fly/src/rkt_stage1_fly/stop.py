"""Stopping a fly pod: the stop signal now, SIGKILL once the pod's stop timeout has passed.

A fly pod has no supervisor (the app *is* the pod process), so the deadline is kept by a
small detached process: ``rkt stop`` returns as soon as the signal is delivered, as the hook
contract asks, and the watcher kills the app if it is still there ``timeout`` seconds later.
The watcher holds a pidfd of the app, so a pid reused after the app ended is never signalled;
it keeps no descriptor of its parent (no lock, no pipe of a caller) open while it waits.
"""

from __future__ import annotations

import math
import os
import select
import signal

from rkt_sdk.poddir import PodDir
from rkt_sdk.stopsignal import stop_signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt_sdk.types import Pod


def stop(pod: Pod, force: bool, timeout: float) -> None:
    """Send the app its stop signal (SIGKILL with ``force``), and SIGKILL after ``timeout`` seconds."""
    pd = PodDir(pod.path)
    sig = signal.SIGKILL if force else (stop_signal(pod.apps[0].runtime) if pod.apps else signal.SIGTERM)
    pid = pd.read_pid()
    pgid = pd.read_pgid()
    if pid is not None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = None
        if pidfd is not None:
            try:
                signal.pidfd_send_signal(pidfd, sig)
                if sig != signal.SIGKILL:
                    _kill_later(pidfd, pgid if pgid == pid else None, timeout)
                return
            except ProcessLookupError:
                pass
            finally:
                os.close(pidfd)
    if pgid is not None and pgid == pid:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass


def _kill_later(pidfd: int, group: int | None, timeout: float) -> None:
    """Leave a detached process that SIGKILLs the process of ``pidfd`` (and its ``group``) unless it
    ends within ``timeout`` seconds. Returns at once."""
    if not math.isfinite(timeout) or timeout < 0:
        return
    child = os.fork()
    if child != 0:
        os.waitpid(child, 0)  # the first child exits at once; its own child is adopted by init
        return
    try:
        os.setsid()
        if os.fork() == 0:
            _watch(pidfd, group, timeout)
    finally:
        os._exit(0)


def _watch(pidfd: int, group: int | None, timeout: float) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, pidfd)
    os.closerange(pidfd + 1, os.sysconf("SC_OPEN_MAX"))
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if poller.poll(int(timeout * 1000)):
        return  # the app ended in time
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        if group is not None:
            os.killpg(group, signal.SIGKILL)  # the group of a leader still alive: its children too
    except ProcessLookupError:
        pass
