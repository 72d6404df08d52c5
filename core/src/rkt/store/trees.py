"""The rendered-tree store: which trees pods use, and removing the others.

A pod uses tree ``X`` when a file ``<data>/pods/<state>/<uuid>/appsinfo/<app>/treeStoreID``
holds ``X`` on one of its lines (an OCI image's app uses its image tree and one tree per
layer). A tree's ``rendered`` marker's modification time is refreshed each time the tree is
handed to a pod, so a grace period can spare trees used recently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from rkt.store.layout import RENDERED, Layout, remove_paths


def trees_in_use(pods_dir: Path) -> set[str]:
    """Tree ids named by any pod under ``pods_dir`` (``<data>/pods``), whatever its state."""
    used: set[str] = set()
    for f in pods_dir.glob("*/*/appsinfo/*/treeStoreID"):
        try:
            used.update(f.read_text().split())
        except OSError:
            continue
    return used


def rendered_trees(layout: Layout) -> list[str]:
    """Ids of the trees in the store (complete or not)."""
    try:
        return sorted(os.listdir(layout.trees))
    except FileNotFoundError:
        return []


def remove_trees(layout: Layout, in_use: set[str], grace_seconds: float = 0,
                 on_remove: Callable[[str, int], None] | None = None) -> list[str]:
    """Remove trees not in ``in_use`` and not handed out within ``grace_seconds``; returns their ids.

    ``on_remove(tree_id, last_used_ns)`` is called for each tree about to go (store lock held).
    """
    names = rendered_trees(layout)
    if not names:
        return []
    now = time.time()
    removed: list[str] = []
    doomed: list[Path] = []
    layout.ensure()
    with layout.lock():
        for name in names:
            if name in in_use:
                continue
            try:
                last_ns = (layout.tree(name) / RENDERED).stat().st_mtime_ns
            except OSError:
                last_ns = 0
            if grace_seconds and now - last_ns / 1e9 < grace_seconds:
                continue
            if on_remove is not None and last_ns:
                on_remove(name, last_ns)
            dead = layout.tmp / f"dead-tree-{name}"
            try:
                os.rename(layout.tree(name), dead)
            except OSError:
                continue
            doomed.append(dead)
            removed.append(name)
    remove_paths(doomed)
    return removed
