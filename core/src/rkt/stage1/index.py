"""The installed ``rkt.stage1`` and ``rkt.plugins`` entry points, read cheaply and cached.

Entry points are read straight from the ``*.dist-info`` and ``*.egg-info`` directories of
each ``sys.path`` directory, which is where ``importlib.metadata`` finds them too: only each
distribution's ``entry_points.txt`` is opened, and its ``METADATA`` (name and version) only
when it declares one of rkt's groups. A scan costs about a millisecond; importing
``importlib.metadata`` alone costs twenty.

What each directory holds is cached in a JSON file under the data directory, keyed by the
directory's own modification time: installing, upgrading or removing a distribution adds
or removes a ``*.dist-info`` directory there, which changes that time, so only that
directory is read again. The cache is per directory, not per ``sys.path``, so commands run
through different scripts or interpreters that share site-packages share its entries.
When two directories declare the same entry point, the first on ``sys.path`` wins.

``RKT_LOAD_PLUGINS`` (comma-separated names) restricts which entry points are seen.
"""

from __future__ import annotations

import json
import os
import sys

from rkt_sdk import PLUGIN_GROUP, STAGE1_GROUP
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_CACHE_VERSION = 2
_CACHE_NAME = "entry-points.json"
#: How many directories the cache remembers (those of the latest command first).
_CACHE_DIRS = 32
_GROUPS = (STAGE1_GROUP, PLUGIN_GROUP)


class EntryPoint(Record):
    """One entry point: its name (the flavor name), target, and the distribution shipping it."""

    name: str
    group: str
    value: str
    dist: str
    dist_version: str


def _parse_entry_points(text: str) -> list[tuple[str, str, str]]:
    """``(group, name, value)`` of rkt's groups in an ``entry_points.txt`` (INI-style sections)."""
    out: list[tuple[str, str, str]] = []
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
        elif group in _GROUPS:
            name, eq, value = line.partition("=")
            if eq and name.strip():
                out.append((group, name.strip(), value.strip()))
    return out


def _name_version(meta_dir: str, entry: str) -> tuple[str, str]:
    """The distribution's ``Name`` and ``Version`` headers (falling back on its directory's name)."""
    name, _, version = entry.rpartition(".")[0].partition("-")
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta_dir, file), encoding="utf-8", errors="replace") as f:
                headers = f.read(4096).split("\n\n", 1)[0]
        except OSError:
            continue
        for line in headers.splitlines():
            key, sep, value = line.partition(":")
            if sep and key == "Name":
                name = value.strip()
            elif sep and key == "Version":
                version = value.strip()
        break
    return name or "?", version or "?"


def scan_dir(directory: str) -> list[EntryPoint]:
    """rkt's entry points declared by the distributions installed in one ``sys.path`` directory."""
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    found: list[EntryPoint] = []
    for entry in entries:
        if not entry.endswith((".dist-info", ".egg-info")):
            continue
        meta_dir = os.path.join(directory, entry)
        try:
            with open(os.path.join(meta_dir, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:  # no entry points, or an egg-info file rather than a directory
            continue
        if "rkt." not in text:
            continue
        eps = _parse_entry_points(text)
        if eps:
            dist, version = _name_version(meta_dir, entry)
            found.extend(EntryPoint(name, group, value, dist, version) for group, name, value in eps)
    return found


def read_cache_file(path: Path, version: int) -> dict[str, Any]:
    """A cache file's JSON object if it is of ``version``; ``{}`` when it is missing, unreadable or older."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == version else {}


def _read_cache(path: Path | None) -> dict[str, list[object]]:
    data = read_cache_file(path, _CACHE_VERSION) if path is not None else {}
    return data["dirs"] if isinstance(data.get("dirs"), dict) else {}


def _cached(entry: object, mtime: int) -> list[EntryPoint] | None:
    """The entry points of a cache entry ``[mtime, [[name, group, value, dist, version], ...]]`` if current."""
    if not isinstance(entry, list) or len(entry) != 2 or entry[0] != mtime:
        return None
    try:
        return [EntryPoint(*e) for e in entry[1]]
    except TypeError:
        return None


def _write_cache(path: Path, dirs: dict[str, list[object]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from rkt_sdk.poddir import write_atomic

        write_atomic(path, json.dumps({"version": _CACHE_VERSION, "dirs": dirs}))
    except OSError:
        pass


def load_index(cache_dir: Path | None) -> list[EntryPoint]:
    """All rkt entry points visible on ``sys.path``, each directory from the cache when it is current."""
    cache = cache_dir / _CACHE_NAME if cache_dir is not None else None
    known = _read_cache(cache)
    now: dict[str, list[object]] = {}
    eps: list[EntryPoint] = []
    seen: set[tuple[str, str]] = set()
    stale = False
    for entry in dict.fromkeys(sys.path):
        directory = entry or "."
        try:
            mtime = os.stat(directory).st_mtime_ns
        except OSError:
            continue
        found = _cached(known.get(directory), mtime)
        if found is None:
            found = scan_dir(directory)
            stale = True
        now[directory] = [mtime, [[e.name, e.group, e.value, e.dist, e.dist_version] for e in found]]
        for e in found:
            if (e.group, e.name) not in seen:
                seen.add((e.group, e.name))
                eps.append(e)
    if stale and cache is not None:
        merged = dict(now)
        for directory, value in known.items():
            if len(merged) >= _CACHE_DIRS:
                break
            merged.setdefault(directory, value)
        _write_cache(cache, merged)
    allow = os.environ.get("RKT_LOAD_PLUGINS")
    if allow is not None:
        names = {n.strip() for n in allow.split(",") if n.strip()}
        eps = [e for e in eps if e.name in names]
    return eps


def flavors(cache_dir: Path | None) -> dict[str, EntryPoint]:
    """Installed flavors by name."""
    return {e.name: e for e in load_index(cache_dir) if e.group == STAGE1_GROUP}
