"""Making a pod directory: ``embryo`` -> ``prepare`` -> ``prepared``.

:func:`new_pod` makes the embryo and takes its lock; :func:`prepare_pod` fills it while
locked in ``prepare`` and renames only a complete pod into ``prepared``. The lock's
``path`` follows the pod through each rename, so whoever holds it knows where the pod is
and can undo it (:func:`rkt.pods.gc.discard_pod`) if anything fails.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from rkt.paths import POD_STATES, DataDir
from rkt.pods.lock import DirLock
from rkt.pods.rootfs import prepare_app_dirs
from rkt_sdk.appc import PodManifest
from rkt_sdk.errors import RktError
from rkt_sdk.poddir import PodDir
from rkt_sdk.podrecords import Stage1Record
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Protocol

    from rkt_sdk.appc import ImageManifest

    class TreeStore(Protocol):
        """What preparing a pod needs from the image store."""

        def manifest(self, image_id: str) -> ImageManifest: ...
        def rootfs_layers(self, image_id: str) -> tuple[Path, ...]: ...
        def tree_ids(self, image_id: str) -> tuple[str, ...]: ...
        def touch(self, image_id: str) -> None: ...
        def flatten(self, image_id: str, dest: Path) -> None: ...


class PreparedPod(Record):
    """A pod just prepared: what running it needs, in memory.

    :ivar uuid: its UUID.
    :ivar path: its directory.
    :ivar lock: its lock (held by this process, or released after ``rkt prepare``).
    :ivar manifest: its pod manifest.
    :ivar lowers: each app's read-only layer directories, topmost first.
    """

    uuid: str
    path: Path
    lock: DirLock
    manifest: PodManifest
    lowers: Mapping[str, tuple[Path, ...]]


def new_uuid() -> str:
    """A random (version 4) UUID in its 36-character form, without the uuid module (which loads platform)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class StillMounted(RktError):
    """Something under a pod directory could not be unmounted, so the directory is kept."""


def remove_pod_dir(path: Path) -> None:
    """Unmount everything under ``path`` and remove it (never through a mount that stays)."""
    from rkt_sdk.linux.mount import remove_unmounted

    left = remove_unmounted(path)
    if left is not None:
        raise StillMounted(f"pod {path.name}: {left} is still mounted; the pod directory is kept")


def new_pod(data: DataDir) -> tuple[str, DirLock]:
    """Make an embryo pod and lock it; its UUID and lock."""
    for st in POD_STATES:
        data.pod_state_dir(st).mkdir(parents=True, exist_ok=True)
    uuid = new_uuid()
    embryo = data.pod_state_dir("embryo") / uuid
    embryo.mkdir(mode=0o711)
    return uuid, DirLock.acquire(embryo)


def prepare_pod(data: DataDir, store: TreeStore, manifest: PodManifest, stage1: Stage1Record, uuid: str,
                lock: DirLock) -> PreparedPod:
    """Fill the locked embryo ``uuid`` and move it to ``pods/prepared``; the lock stays held.

    On failure the pod is left where it got to (``lock.path``), for the caller to undo.
    """
    preparing = data.pod_state_dir("prepare") / uuid
    os.rename(lock.path, preparing)
    lock.path = preparing
    pd = PodDir(preparing)
    pd.stamp("created")
    pd.write_stage1(stage1)
    lowers: dict[str, tuple[Path, ...]] = {}
    for app in manifest.apps:
        image_id = app.image.id
        layers = store.rootfs_layers(image_id)
        image = json.dumps(store.manifest(image_id).to_dict()) + "\n"
        pd.write_app_image(app.name, image, store.tree_ids(image_id), layers)
        prepare_app_dirs(pd, app.name, layers, stage1.overlay, functools.partial(store.flatten, image_id))
        store.touch(image_id)
        lowers[app.name] = layers
    pd.write_manifest(manifest)
    prepared = data.pod_state_dir("prepared") / uuid
    os.rename(preparing, prepared)
    lock.path = prepared
    return PreparedPod(uuid, prepared, lock, manifest, lowers)


def read_prepared(uuid: str, lock: DirLock) -> PreparedPod:
    """The prepared pod at ``lock.path``, read from its directory (``rkt run-prepared``)."""
    pd = PodDir(lock.path)
    manifest = pd.read_manifest()
    lowers = {a.name: pd.read_app_lowers(a.name) for a in manifest.apps}
    return PreparedPod(uuid, lock.path, lock, manifest, lowers)

