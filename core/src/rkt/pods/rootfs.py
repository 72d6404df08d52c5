"""Each app's root filesystem in the pod: an overlay over the image's rendered tree, or a copy.

Overlay mounts do not survive a reboot, so they are made when the pod starts running
(:func:`mount_app_roots`), not at prepare time; the directories are made at prepare.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from rkt_sdk.errors import RktError
from rkt_sdk.poddir import PodDir


class RootfsError(RktError):
    """An app's root filesystem could not be set up."""


def prepare_app_dirs(pd: PodDir, app: str, lowers: tuple[Path, ...], overlay: bool,
                     flatten: Callable[[Path], None]) -> None:
    """Make the app's mount point and overlay layers, or a flattened copy of the image when not overlaying.

    ``lowers`` are the image's read-only roots, topmost first; ``flatten(dest)`` copies the
    merged image to ``dest``.
    """
    target = pd.app_rootfs(app)
    if overlay:
        target.mkdir(parents=True)
        for layer in ("upper", "work"):
            (pd.path / "overlay" / app / layer).mkdir(parents=True)
        os.chmod(pd.path / "overlay" / app / "upper", os.stat(lowers[0]).st_mode & 0o7777)
    else:
        target.parent.mkdir(parents=True)
        flatten(target)


def mount_app_roots(pd: PodDir, lowers: Mapping[str, tuple[Path, ...]]) -> None:
    """Mount each app's overlay over its image's roots, topmost first (apps whose rootfs is a copy are skipped)."""
    from rkt_sdk.linux.mount import MountError, mount

    for app, lower in lowers.items():
        layers = pd.path / "overlay" / app
        if not layers.is_dir():
            continue
        opts = f"lowerdir={':'.join(map(str, lower))},upperdir={layers / 'upper'},workdir={layers / 'work'}"
        try:
            mount("overlay", pd.app_rootfs(app), "overlay", 0, opts)
        except MountError as e:
            raise RootfsError(f"app {app!r}: cannot mount its overlay root ({e}); "
                              "run again with --no-overlay if this filesystem cannot hold overlays") from None


def overlay_supported(where: Path) -> bool:
    """Whether an overlay can use ``where`` for its upper layer.

    A real probe (mount and unmount a scratch overlay), made once per filesystem: a
    success is remembered in ``where`` under the filesystem's device number, because the
    probe's unmount syncs the whole filesystem and may cost far more than the pod start.
    """
    where.mkdir(parents=True, exist_ok=True)
    known = where / f".overlay-ok-{os.stat(where).st_dev}"
    if known.exists():
        return True
    if not _probe_overlay(where):
        return False
    known.touch()
    return True


def _probe_overlay(where: Path) -> bool:
    import shutil
    import tempfile

    from rkt_sdk.linux.mount import MountError, mount, umount

    d = Path(tempfile.mkdtemp(prefix=".overlay-probe-", dir=where))
    try:
        for n in ("l", "u", "w", "m"):
            (d / n).mkdir()
        try:
            mount("overlay", d / "m", "overlay", 0, f"lowerdir={d / 'l'},upperdir={d / 'u'},workdir={d / 'w'}")
        except MountError:
            return False
        umount(d / "m")
        return True
    finally:
        shutil.rmtree(d, ignore_errors=True)


def choose_overlay(wanted: bool, data_root: Path, tmp: Path) -> bool:
    """Whether the apps' roots will be overlays: if ``wanted`` and ``tmp``'s filesystem holds them.

    Says so on stderr when overlays were wanted and the filesystem cannot hold them.
    """
    if not wanted:
        return False
    if overlay_supported(tmp):
        return True
    sys.stderr.write(f"rkt: warning: overlayfs does not work on {data_root}; "
                     "copying each app's root filesystem instead\n")
    return False
