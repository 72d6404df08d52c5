"""Resource quantities as the appc isolators write them: memory (``64M``, ``1Gi``) and CPU (``500m``).

Shared by the cgroup limits of the namespace flavors and the sizing of VMs.
"""

from __future__ import annotations

from rkt_sdk.errors import RktError


class QuantityError(RktError):
    """A memory or CPU quantity is not a positive number with a known unit."""


def parse_memory(value: str | int) -> int:
    """A memory quantity (``64M``, ``1Gi``, ``500000``) in bytes."""
    if isinstance(value, int):
        return value
    s = value.strip()
    units = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
             "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
    low = s.lower()
    for suffix in ("ki", "mi", "gi", "ti", "k", "m", "g", "t"):
        if low.endswith(suffix):
            num = low[: -len(suffix)]
            mult = units[suffix]
            break
    else:
        num, mult = low, 1
    try:
        n = float(num)
    except ValueError:
        raise QuantityError(f"memory quantity {value!r}: not a number with a unit (K, M, G, Ki, Mi, Gi)") from None
    if n <= 0:
        raise QuantityError(f"memory quantity {value!r}: must be positive")
    return int(n * mult)


def parse_cpu(value: str | int | float) -> int:
    """A CPU quantity (``500m``, ``2``, ``0.5``) in millicores."""
    if isinstance(value, (int, float)):
        m = int(value * 1000)
    else:
        s = value.strip()
        try:
            m = int(s[:-1]) if s.endswith("m") else int(float(s) * 1000)
        except ValueError:
            raise QuantityError(f"cpu quantity {value!r}: not a number of cores or millicores (500m)") from None
    if m <= 0:
        raise QuantityError(f"cpu quantity {value!r}: must be positive")
    return m
