"""Fetching from a server that is still starting (a pod's web app behind a port forward)."""

from __future__ import annotations

import time
import urllib.request


def get_when_up(url: str, tries: int = 100, pause: float = 0.1) -> str:
    """The body at ``url``, retrying while the connection fails; ``""`` if it never answered."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return str(r.read().decode())
        except OSError:
            time.sleep(pause)
    return ""
