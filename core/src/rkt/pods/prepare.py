"""Making a pod directory: ``embryo`` -> ``prepare`` -> ``prepared``.

The pod directory is built while locked in ``prepare``; only a complete pod is renamed
into ``prepared``. Any failure removes what was made, so bad input leaves no pod behind.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from rkt.paths import DataDir
from rkt.pods.lock import DirLock
from rkt.pods.rootfs import overlay_supported, prepare_app_dirs, warn
from rkt.stage1.index import EntryPoint
from rkt_sdk.appc import ImageManifest, PodManifest
from rkt_sdk.errors import RktError
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class TreeStore(Protocol):
        """What preparing a pod needs from the image store."""

        def manifest(self, image_id: str) -> ImageManifest: ...
        def rootfs_layers(self, image_id: str) -> tuple[Path, ...]: ...
        def tree_ids(self, image_id: str) -> tuple[str, ...]: ...
        def flatten(self, image_id: str, dest: Path) -> None: ...
        def touch(self, image_id: str) -> None: ...


class PreparedPod(Record):
    """A pod just prepared: its UUID, directory and (still held) lock."""

    uuid: str
    path: Path
    lock: DirLock


def new_uuid() -> str:
    """A random (version 4) UUID in its 36-character form, without the uuid module (which loads platform)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ensure_dirs(data: DataDir) -> None:
    for st in ("embryo", "prepare", "prepared", "run", "exited-garbage", "garbage"):
        data.pod_state_dir(st).mkdir(parents=True, exist_ok=True)


class StillMounted(RktError):
    """Something under a pod directory could not be unmounted, so the directory is kept."""


def remove_pod_dir(path: Path) -> None:
    """Unmount everything under ``path`` and remove it.

    Never removes through a mount that is still there: that would delete the host's
    files behind a bind mount (a host volume, ``/dev``).
    """
    from rkt_sdk.linux.mount import mounts_under, unmount_tree

    if path.exists():
        unmount_tree(path)
        left = mounts_under(path)
        if left:
            raise StillMounted(f"pod {path.name}: {left[0]} is still mounted; the pod directory is kept")
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def stage1_record(entry: EntryPoint, interface_version: int, overlay: bool) -> dict[str, object]:
    return {"name": entry.name, "version": entry.dist_version, "distribution": entry.dist,
            "interfaceVersion": interface_version, "overlay": overlay}


def prepare_pod(data: DataDir, store: TreeStore, manifest: PodManifest, stage1: dict[str, object], *,
                overlay: bool = True, keep_lock: bool = False) -> PreparedPod:
    """Write a complete pod into ``pods/prepared`` and return it (lock held if ``keep_lock``)."""
    _ensure_dirs(data)
    uuid = new_uuid()
    embryo = data.pod_state_dir("embryo") / uuid
    embryo.mkdir(mode=0o711)
    lock = DirLock.acquire(embryo)
    preparing = data.pod_state_dir("prepare") / uuid
    path = embryo
    try:
        os.rename(embryo, preparing)
        path = preparing
        pd = PodDir(preparing)
        pd.stamp("created")
        if overlay and not overlay_supported(data.tmp):
            warn(f"overlayfs does not work on {data.root}; copying each app's root filesystem instead")
            overlay = False
        stage1 = dict(stage1, overlay=overlay)
        write_atomic(preparing / "stage1", json.dumps(stage1) + "\n")
        for app in manifest.apps:
            image_id = app.image.id
            info = preparing / "appsinfo" / app.name
            info.mkdir(parents=True)
            im = store.manifest(image_id)
            write_atomic(info / "manifest", json.dumps(im.to_dict()) + "\n")
            lowers = store.rootfs_layers(image_id)
            write_atomic(info / "treeStoreID", "".join(t + "\n" for t in store.tree_ids(image_id)))
            write_atomic(info / "lowers", "".join(f"{p}\n" for p in lowers))
            prepare_app_dirs(pd, app.name, lowers, overlay, functools.partial(store.flatten, image_id))
            store.touch(image_id)
        write_atomic(pd.manifest_path, manifest.to_json())
        prepared = data.pod_state_dir("prepared") / uuid
        os.rename(preparing, prepared)
        path = prepared
    except BaseException:
        lock.release()
        remove_pod_dir(path)
        raise
    if not keep_lock:
        lock.release()
    lock.path = path
    return PreparedPod(uuid, path, lock)
