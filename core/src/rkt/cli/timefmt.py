"""Times as rkt printed them: absolute (Go's layout) and relative ("2 minutes ago")."""

from __future__ import annotations

import time


def absolute(ns: int) -> str:
    """``2016-05-30 13:09:44.634 +0200 CEST``."""
    if not ns:
        return ""
    secs, rem = divmod(ns, 1_000_000_000)
    t = time.localtime(secs)
    ms = f"{rem / 1e9:.3f}"[1:].rstrip("0").rstrip(".")
    return time.strftime("%Y-%m-%d %H:%M:%S", t) + ms + time.strftime(" %z %Z", t)


def relative(ns: int, now: float | None = None) -> str:
    """``4 seconds ago``, ``2 minutes ago``, ``3 hours ago``, ``5 days ago``."""
    if not ns:
        return ""
    delta = max(0, int((now if now is not None else time.time()) - ns / 1e9))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if delta >= size:
            n = delta // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return f"{delta} second{'s' if delta != 1 else ''} ago"
