"""The coreos pod's cgroups: the pod's, the supervisor's and one per app, each with its limits.

Made by stage0 when a pod starts (:func:`make_cgroups`), and by the supervisor of a sandbox for
an app added later (:func:`apply_limits`).
"""

from __future__ import annotations

from rkt_sdk.errors import RktError
from rkt_stage1_coreos.plan import PodPlan, supervisor_cgroup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt_sdk.linux.cgroups import Cgroups


def make_cgroups(plan: PodPlan, cg: Cgroups) -> None:
    """Create the pod's, the supervisor's and each app's cgroup, with their limits.

    :raises CgroupError: a cgroup could not be made (what was made is removed).
    """
    from rkt_stage1_coreos.rootfs import DEVICE_RULES

    try:
        cg.create(plan.cgroup)
        cg.restrict_devices(plan.cgroup, DEVICE_RULES)
        apply_limits(cg, plan.cgroup, plan.limits)
        cg.create(supervisor_cgroup(plan.cgroup))
        for app in plan.apps:
            cg.create(app.cgroup)
            apply_limits(cg, app.cgroup, app.limits)
    except RktError:
        cg.remove(plan.cgroup)
        raise


def apply_limits(cg: Cgroups, path: str, limits: Any) -> None:
    """Set the memory, CPU and CPU-share limits ``limits`` names on the cgroup ``path``."""
    if limits.memory is not None:
        cg.set_memory_limit(path, limits.memory)
    if limits.cpu_millicores is not None:
        cg.set_cpu_limit(path, limits.cpu_millicores)
    if limits.cpu_shares is not None:
        cg.set_cpu_shares(path, limits.cpu_shares)
