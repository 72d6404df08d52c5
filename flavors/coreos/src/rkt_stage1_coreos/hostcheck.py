"""Can this host run coreos pods? Root, the namespaces, a cgroup layout, a seccomp table.

The probe reads a few files of /proc only (well under a millisecond once its modules are
loaded, and ``run`` needs those modules anyway), so it runs every time it is asked: a
verdict is never stale. The cgroup layout it finds is kept for the rest of the process,
so ``run`` does not read mountinfo a second time.
"""

from __future__ import annotations

import functools
import os

from rkt_sdk.types import HostCheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rkt_sdk.linux.cgroups import Cgroups


@functools.cache
def host_cgroups() -> Cgroups:
    """The host's cgroup layout (the hierarchies pods use), detected once per process.

    :raises CgroupError: no cgroup filesystem is mounted.
    """
    from rkt_sdk.linux.cgroups import detect

    return detect()


def check(settings: Mapping[str, Any]) -> HostCheck:
    """Probe the host (reads /proc only; makes nothing)."""
    from rkt_sdk.linux.cgroups import CgroupError
    from rkt_sdk.linux.ns import missing_namespaces

    if os.geteuid() != 0:
        return HostCheck(False, "the coreos flavor needs root (run rkt as root)")
    missing = missing_namespaces()
    if missing:
        return HostCheck(False, f"the kernel lacks namespaces: {', '.join(missing)}")
    host_cgroups.cache_clear()  # a check always looks again
    try:
        cg = host_cgroups()
    except CgroupError as e:
        return HostCheck(False, f"{e}: mount the cgroup filesystems")
    warnings = []
    machine = os.uname().machine
    if machine != "x86_64" and settings.get("default_seccomp", True):
        warnings.append(f"no seccomp system call table for {machine}: set default_seccomp to false")
    if cg.version == "v2":
        warnings.append("cgroup v2: device access is limited by nodev mounts only")
    return HostCheck(True, "", tuple(warnings))
