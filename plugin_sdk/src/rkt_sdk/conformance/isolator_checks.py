"""How the conformance kit observes each isolator from inside an app.

Each :class:`Check` gives the ``rkt run`` app flags that ask for the isolator (and, for one
with no flag, the image manifest isolator that does) and a busybox ``sh`` script that exits
0 only when the app sees the isolator in force, printing what it saw otherwise. A container
flavor shows limits in the app's cgroup (v1 or v2, whichever the host has); a virtual machine
flavor (``virtualized``) shows a CPU limit as its CPU count and its memory limit only to the
allocation check (its RAM adds the flavor's overhead). Checks that a host cannot
make (no system call table for its machine) skip with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: 128M as stage0 reads it (decimal) or as 2^20 multiples: the larger bound
MEMORY_LIMIT = "128M"
_MEMORY_MAX = 128 * 1024 * 1024

_MEMORY_CGROUP = f"""
lim=""
for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
  if [ -r "$f" ]; then lim=$(cat "$f"); break; fi
done
case "$lim" in ''|max) echo "no memory limit in the app's cgroup (saw '$lim')"; exit 1;; esac
if [ "$lim" -gt {_MEMORY_MAX} ]; then echo "cgroup memory limit $lim is above 128M"; exit 1; fi
"""

#: a VM's guest RAM is the apps' limits plus the flavor's own overhead (a per-host setting), so
#: the limit is not readable as such inside; the allocation check tests it
_MEMORY_VM_SKIP = ("a virtual machine's RAM is its apps' limits plus the flavor's overhead; "
                   "test_memory_limit_stops_an_allocation_over_it checks the limit")

# 500m = half a CPU: a quota of at most half the period
_CPU_CGROUP = """
q=""; p=""
if [ -r /sys/fs/cgroup/cpu.max ]; then read q p < /sys/fs/cgroup/cpu.max
elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
  q=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); p=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
fi
case "$q" in ''|max|-1) echo "no CPU quota in the app's cgroup (saw '$q' '$p')"; exit 1;; esac
if [ $((q * 1000 / p)) -gt 500 ]; then echo "CPU quota $q/$p is above 500m"; exit 1; fi
"""

_CPU_VM = """
n=$(grep -c ^processor /proc/cpuinfo)
if [ "$n" -gt 1 ]; then echo "guest has $n CPUs under --cpu=500m"; exit 1; fi
"""

# cpu.shares=512 on cgroup v1; on v2 the kernel's weight for it: 1 + (512-2)*9999/262142 = 20
_SHARES = """
if [ -r /sys/fs/cgroup/cpu/cpu.shares ]; then v=$(cat /sys/fs/cgroup/cpu/cpu.shares); want=512
elif [ -r /sys/fs/cgroup/cpu.weight ]; then v=$(cat /sys/fs/cgroup/cpu.weight); want=20
else echo "no CPU shares or weight visible in the app's cgroup"; exit 1; fi
if [ "$v" != "$want" ]; then echo "CPU shares/weight is $v, want $want"; exit 1; fi
"""


def _status_field(name: str) -> str:
    return f"$(grep '^{name}:' /proc/self/status | cut -f2)"


# bit 13 (CAP_NET_RAW) clear in the bounding and effective sets
_CAPS_REMOVE = f"""
b={_status_field("CapBnd")}; e={_status_field("CapEff")}
if [ $(( 0x$b >> 13 & 1 )) != 0 ] || [ $(( 0x$e >> 13 & 1 )) != 0 ]; then
  echo "CAP_NET_RAW still held: CapBnd=$b CapEff=$e"; exit 1
fi
"""

# only bit 0 (CAP_CHOWN) left in the effective set
_CAPS_RETAIN = f"""
e={_status_field("CapEff")}
if [ $(( 0x$e )) != 1 ]; then echo "CapEff=$e, want only CAP_CHOWN (1)"; exit 1; fi
"""

_NO_NEW_PRIVS = f"""
v={_status_field("NoNewPrivs")}
if [ "$v" != 1 ]; then echo "NoNewPrivs is '$v'"; exit 1; fi
"""

_OOM = """
v=$(cat /proc/self/oom_score_adj)
if [ "$v" != 100 ]; then echo "oom_score_adj is $v"; exit 1; fi
"""

#: the app of the seccomp checks: uname(2) in the filter's set kills it (no errno given: SIGSYS, 128+31);
#: a shell cannot be the app, as busybox's sh calls uname(2) itself
UNAME_KILLED = 128 + 31


def _retain_all_but_uname() -> tuple[str, ...]:
    """``--seccomp`` keeping every system call of this machine but ``uname``."""
    import platform

    if platform.machine() != "x86_64":
        raise CheckUnavailable(f"no system call table for {platform.machine()} in rkt_sdk")
    from rkt_sdk.linux.syscalls import X86_64

    names = sorted(set(X86_64) - {"uname"})
    return ("--seccomp=mode=retain," + ",".join(names),)


class CheckUnavailable(Exception):
    """This host cannot make the check (the reason is the message)."""


@dataclass(frozen=True)
class Check:
    """How to ask for one isolator and see it from inside the app.

    :ivar flags: app flags of ``rkt run`` (or a function making them, which may raise
        :class:`CheckUnavailable`).
    :ivar script: the observation of a container flavor (exits 0 when the isolator is in force).
    :ivar vm_script: the observation of a virtualized flavor, when it differs.
    :ivar vm_skip: why a virtualized flavor cannot show the isolator from inside (the check skips).
    :ivar image_isolators: isolators the image manifest carries (for isolators without a flag).
    :ivar argv: when set, the app runs this instead of ``sh -c script`` and must exit ``expect_code``.
    :ivar expect_code: the exit code of ``argv`` that shows the isolator in force.
    """

    flags: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    script: str = ""
    vm_script: str | None = None
    vm_skip: str = ""
    image_isolators: tuple[dict[str, Any], ...] = field(default=())
    argv: tuple[str, ...] = ()
    expect_code: int = 0

    def app_flags(self) -> tuple[str, ...]:
        return self.flags() if callable(self.flags) else self.flags

    def observation(self, virtualized: bool) -> str:
        return self.vm_script if virtualized and self.vm_script is not None else self.script


CHECKS: dict[str, Check] = {
    "resource/memory": Check((f"--memory={MEMORY_LIMIT}",), _MEMORY_CGROUP, vm_skip=_MEMORY_VM_SKIP),
    "resource/cpu": Check(("--cpu=500m",), _CPU_CGROUP, _CPU_VM),
    "os/linux/cpu-shares": Check(("--cpu-shares=512",), _SHARES),
    "os/linux/oom-score-adj": Check(("--oom-score-adj=100",), _OOM),
    "os/linux/capabilities-remove-set": Check(("--caps-remove=CAP_NET_RAW",), _CAPS_REMOVE),
    "os/linux/capabilities-retain-set": Check(("--caps-retain=CAP_CHOWN",), _CAPS_RETAIN),
    "os/linux/no-new-privileges": Check((), _NO_NEW_PRIVS,
                                        image_isolators=({"name": "os/linux/no-new-privileges", "value": True},)),
    "os/linux/seccomp-remove-set": Check(("--seccomp=mode=remove,uname",), argv=("/bin/uname",),
                                         expect_code=UNAME_KILLED),
    "os/linux/seccomp-retain-set": Check(_retain_all_but_uname, argv=("/bin/uname",), expect_code=UNAME_KILLED),
}

#: an allocation well over the limit: must not succeed
OVER_LIMIT_SCRIPT = "dd if=/dev/zero of=/dev/null bs=600M count=1"
