"""The VM's size from the pod's isolators: memory and virtual CPUs."""

from __future__ import annotations

import math
import os
from typing import Any

from rkt_sdk.quantities import QuantityError, parse_cpu, parse_memory
from rkt_sdk.types import Pod
from rkt_sdk.vm.errors import VMError

MIB = 1 << 20


def _limit(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("limit", value.get("request"))
    return value


def memory_mib(pod: Pod, overhead: int, app_default: int) -> int:
    """Sum of the apps' ``resource/memory`` limits (``app_default`` MiB for an app without one) plus ``overhead``."""
    total = overhead
    for a in pod.apps:
        iso = a.runtime.app.isolator("resource/memory")
        lim = _limit(iso.value) if iso else None
        if lim is None:
            total += app_default
            continue
        try:
            total += math.ceil(parse_memory(lim) / MIB)
        except QuantityError as e:
            raise VMError(f"app {a.name}: resource/memory: {e}") from None
    return total


def vcpus(pod: Pod, host_cpus: int | None = None) -> int:
    """Virtual CPUs: the apps' ``resource/cpu`` limits summed and rounded up, 1 to the host's count."""
    millis = 0
    for a in pod.apps:
        iso = a.runtime.app.isolator("resource/cpu")
        lim = _limit(iso.value) if iso else None
        if lim is None:
            continue
        try:
            millis += parse_cpu(lim)
        except QuantityError as e:
            raise VMError(f"app {a.name}: resource/cpu: {e}") from None
    cap = host_cpus or os.cpu_count() or 1
    return max(1, min(cap, math.ceil(millis / 1000)))
