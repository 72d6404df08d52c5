"""``rkt_stage1_run`` for the coreos flavor: plan, cgroups, the supervisor, and waiting for it.

The stage0 process unshares only the PID namespace *for its children* (its own PID
namespace does not change), forks the supervisor as PID 1 of the new one, and restores
its children's PID namespace at once, so stage0 can still start processes afterwards.
While the supervisor makes its namespaces, stage0 makes the pod's cgroups and writes the
pid file; then it tells the supervisor to go on (or, by closing the pipe, to give up).
"""

from __future__ import annotations

import os
import signal

from rkt_sdk.errors import FlavorError
from rkt_sdk.poddir import PodDir
from rkt_sdk.types import Pod, RunOptions
from rkt_stage1_coreos.cgroup_setup import make_cgroups
from rkt_stage1_coreos.hostcheck import host_cgroups
from rkt_stage1_coreos.plan import PodPlan, pod_plan, save_run_record
from rkt_stage1_coreos.supervisor import run_supervisor

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt_sdk.linux.cgroups import Cgroups


def run(pod: Pod, options: RunOptions) -> int:
    """Run the pod; return its exit code (see the module doc)."""
    settings = options.settings
    plan = pod_plan(pod, options.insecure_options, settings, options.hostname, options.stop_timeout,
                    options.interactive, options.debug)
    save_run_record(pod.path, options.insecure_options, options.stop_timeout, plan.cgroup)
    cg = host_cgroups()  # the layout; the directories are made while the supervisor sets up
    netns = str(pod.netns) if pod.netns is not None else None
    pid, go_w, st_r = _fork_supervisor(plan, cg, netns, netns is None and options.net != "host",
                                       _sandbox(pod, options))

    def _forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    forward = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    for sig in forward:
        signal.signal(sig, _forward)
    try:
        wstatus = _follow(pod, plan, cg, pid, go_w, st_r)
    finally:
        for sig, handler in forward.items():
            signal.signal(sig, handler)
        if options.interactive:
            _take_back_terminal()
    code = os.waitstatus_to_exitcode(wstatus)
    return 128 - code if code < 0 else code


def _fork_supervisor(plan: PodPlan, cg: Cgroups, netns: str | None, new_net: bool,
                     make: Any = None) -> tuple[int, int, int]:
    """Fork the supervisor as PID 1 of a new PID namespace (made by ``make``, see :func:`run_supervisor`).

    :returns: its pid, the write end of its go pipe and the read end of its status pipe.
    """
    from rkt_sdk.linux import ns

    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    st_r, st_w = os.pipe2(os.O_CLOEXEC)
    own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        ns.unshare(ns.CLONE_NEWPID)
        try:
            pid = os.fork()
            if pid == 0:
                os.close(go_w)
                os.close(st_r)
                os.close(own_pidns)
                run_supervisor(plan, cg, netns, new_net, go_r, st_w, make)
        finally:
            ns.setns(own_pidns, ns.CLONE_NEWPID)
    except BaseException:
        os.close(go_w)
        os.close(st_r)
        raise
    finally:
        os.close(own_pidns)
        os.close(go_r)
        os.close(st_w)
    return pid, go_w, st_r


def _follow(pod: Pod, plan: PodPlan, cg: Cgroups, pid: int, go_w: int, st_r: int) -> int:
    """Make the cgroups, let the supervisor go on, wait for its apps to start and for it to end.

    :returns: the supervisor's wait status.
    :raises FlavorError: the supervisor reported (or died of) a failure before its apps started.
    """
    try:
        try:
            make_cgroups(plan, cg)
            PodDir(pod.path).write_pid(pid)
            os.write(go_w, b"g")
        finally:
            os.close(go_w)  # without a "g" the supervisor exits before starting anything
    except BaseException:
        os.close(st_r)
        os.waitpid(pid, 0)
        raise
    status = b""
    while True:
        chunk = os.read(st_r, 4096)
        if not chunk:
            break
        status += chunk
    os.close(st_r)
    if status != b"ok":
        os.waitpid(pid, 0)
        raise FlavorError(status.decode(errors="replace") or "the pod's supervisor died before its apps started")
    return os.waitpid(pid, 0)[1]


def _sandbox(pod: Pod, options: RunOptions) -> Any:
    """What makes a mutable pod's supervisor (None for a pod of fixed apps)."""
    if not pod.mutable:
        return None
    from functools import partial

    from rkt_stage1_coreos.sandbox import Sandbox

    return partial(Sandbox, insecure=options.insecure_options, settings=options.settings)


def _take_back_terminal() -> None:
    try:
        if os.isatty(0):
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(0, os.getpgrp())
            finally:
                signal.signal(signal.SIGTTOU, old)
    except OSError:
        pass
