"""A cached index of the ``rkt.stage1`` and ``rkt.plugins`` entry points.

Scanning every installed distribution costs tens of milliseconds, so the result is
cached in a JSON file keyed by the modification times of the ``sys.path`` directories:
installing or removing a distribution changes its site-packages directory, which
invalidates the cache.

``RKT_LOAD_PLUGINS`` (comma-separated names) restricts which entry points are seen.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rkt_sdk import PLUGIN_GROUP, STAGE1_GROUP

_CACHE_VERSION = 1


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: its name (the flavor name), target, and the distribution shipping it."""

    name: str
    group: str
    value: str
    dist: str
    dist_version: str


def _path_key() -> list[list[object]]:
    key: list[list[object]] = []
    for p in sys.path:
        try:
            key.append([p, os.stat(p or ".").st_mtime_ns])
        except OSError:
            continue
    return key


def _scan() -> list[EntryPoint]:
    from importlib.metadata import distributions

    found: list[EntryPoint] = []
    seen: set[tuple[str, str]] = set()
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group in (STAGE1_GROUP, PLUGIN_GROUP) and (ep.group, ep.name) not in seen:
                seen.add((ep.group, ep.name))
                found.append(EntryPoint(ep.name, ep.group, ep.value, dist.metadata["Name"] or "?", dist.version))
    return found


def load_index(cache_dir: Path | None) -> list[EntryPoint]:
    """All rkt entry points, from the cache when it is fresh, else by a scan (then cached)."""
    key = _path_key()
    cache = cache_dir / "entry-points.json" if cache_dir is not None else None
    eps: list[EntryPoint] | None = None
    if cache is not None:
        try:
            data = json.loads(cache.read_text())
            if data.get("version") == _CACHE_VERSION and data.get("key") == key:
                eps = [EntryPoint(**e) for e in data["entryPoints"]]
        except (OSError, ValueError, TypeError, KeyError):
            eps = None
    if eps is None:
        eps = _scan()
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
                tmp.write_text(json.dumps({"version": _CACHE_VERSION, "key": key,
                                           "entryPoints": [e.__dict__ for e in eps]}))
                os.rename(tmp, cache)
            except OSError:
                pass
    allow = os.environ.get("RKT_LOAD_PLUGINS")
    if allow is not None:
        names = {n.strip() for n in allow.split(",") if n.strip()}
        eps = [e for e in eps if e.name in names]
    return eps


def flavors(cache_dir: Path | None) -> dict[str, EntryPoint]:
    """Installed flavors by name."""
    return {e.name: e for e in load_index(cache_dir) if e.group == STAGE1_GROUP}


def plugins(cache_dir: Path | None) -> list[EntryPoint]:
    """Installed cross-cutting plugins."""
    return [e for e in load_index(cache_dir) if e.group == PLUGIN_GROUP]
