"""Can this host run coreos pods? Root, the namespaces, a cgroup layout, a seccomp table."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any

from rkt_sdk.types import HostCheck


def check(settings: Mapping[str, Any]) -> HostCheck:
    """Probe the host (reads /proc and /sys only; makes nothing)."""
    from rkt_sdk.linux.cgroups import CgroupError, detect
    from rkt_sdk.linux.ns import missing_namespaces

    if os.geteuid() != 0:
        return HostCheck(False, "the coreos flavor needs root (run rkt as root)")
    missing = missing_namespaces()
    if missing:
        return HostCheck(False, f"the kernel lacks namespaces: {', '.join(missing)}")
    try:
        cg = detect()
    except CgroupError as e:
        return HostCheck(False, f"{e}: mount the cgroup filesystems")
    warnings = []
    if platform.machine() != "x86_64" and settings.get("default_seccomp", True):
        warnings.append(f"no seccomp system call table for {platform.machine()}: set default_seccomp to false")
    if cg.version == "v2":
        warnings.append("cgroup v2: device access is limited by nodev mounts only")
    return HostCheck(True, "", tuple(warnings))
