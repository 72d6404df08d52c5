"""The merged configuration ``rkt config`` prints: every kind, and each flavor's settings.

The shape follows rkt's ``rkt config``: ``{"stage0": [entries...], "stage1": [...]}``,
where each stage0 entry looks like a config file of its kind (one ``auth`` entry per
host, one ``dockerAuth`` entry per registry, one ``paths`` entry, one ``stage1`` entry
naming the default flavor). ``stage1`` holds, for each installed flavor, its effective
per-host settings (defaults merged with the ``stage1.d`` files), or why it cannot load;
the caller reads those through the flavors (:func:`rkt.stage1.report.stage1_entries`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rkt.config.auth import load_auth
from rkt.config.paths import load_paths


def effective_config(config_dirs: tuple[Path, ...], stage1: list[dict[str, Any]],
                     data_override: Path | None = None) -> dict[str, Any]:
    """The merged configuration of every kind; ``stage1`` the flavors' entries; ``data_override`` is ``--dir``."""
    from rkt.config.stage1 import configured_stage1

    stage0: list[dict[str, Any]] = []
    stage0 += load_auth(config_dirs).to_entries()
    stage0.append(load_paths(config_dirs).to_entry(data_override))
    stage0.append(configured_stage1(config_dirs).to_entry())
    return {"stage0": stage0, "stage1": stage1}
