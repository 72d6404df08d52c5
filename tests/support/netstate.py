"""What networking left on the host, read the way a test inspects it (never changed from here)."""

from __future__ import annotations

import json
from pathlib import Path


def leases(d: Path) -> dict[str, str]:
    """The addresses leased in lease directory ``d``, with the pod UUID each lease file names."""
    out: dict[str, str] = {}
    for f in d.iterdir() if d.is_dir() else ():
        if f.name in ("lock", "last") or f.name.startswith("."):
            continue
        try:
            out[f.name] = str(json.loads(f.read_bytes()).get("uuid", ""))
        except (OSError, ValueError, AttributeError):
            continue
    return out
