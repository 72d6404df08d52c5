"""The merged configuration ``rkt config`` prints: every kind, and each flavor's settings.

The shape follows rkt's ``rkt config``: ``{"stage0": [entries...], "stage1": [...]}``,
where each stage0 entry looks like a config file of its kind (one ``auth`` entry per
host, one ``dockerAuth`` entry per registry, one ``paths`` entry, one ``stage1`` entry
naming the default flavor). ``stage1`` holds, for each installed flavor, its effective
per-host settings (defaults merged with the ``stage1.d`` files), or why it cannot load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rkt.config.auth import load_auth
from rkt.config.paths import load_paths


def stage1_entries(config_dirs: tuple[Path, ...], cache_dir: Path | None) -> list[dict[str, Any]]:
    """Each installed flavor's effective settings; a malformed setting raises ``ConfigError``."""
    from rkt.stage1.index import flavors
    from rkt.stage1.loader import load_entry
    from rkt.stage1.settings import flavor_settings, raw_settings
    from rkt_sdk.errors import RktError

    out: list[dict[str, Any]] = []
    installed = flavors(cache_dir)
    for name, ep in sorted(installed.items()):
        entry: dict[str, Any] = {"name": name, "distribution": ep.dist, "version": ep.dist_version}
        try:
            flavor = load_entry(ep)
        except RktError as e:
            entry["error"] = str(e)
            out.append(entry)
            continue
        entry["version"] = flavor.info.version
        entry["settings"] = flavor_settings(flavor, config_dirs)
        out.append(entry)
    for name, sources in sorted(raw_settings(config_dirs).items()):
        if name not in installed:
            out.append({"name": name, "error": f"not installed (settings in {', '.join(str(p) for p, _ in sources)})"})
    return out


def effective_config(config_dirs: tuple[Path, ...], cache_dir: Path | None,
                     data_override: Path | None = None) -> dict[str, Any]:
    """The merged configuration of every kind; ``data_override`` is ``--dir`` when given."""
    from rkt.stage1.settings import configured_stage1

    stage0: list[dict[str, Any]] = []
    stage0 += load_auth(config_dirs).to_entries()
    stage0.append(load_paths(config_dirs).to_entry(data_override))
    stage0.append(configured_stage1(config_dirs).to_entry())
    return {"stage0": stage0, "stage1": stage1_entries(config_dirs, cache_dir)}
