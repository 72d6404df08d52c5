"""Garbage collection and removal of pods, as rkt did it.

``gc`` moves exited pods to ``exited-garbage`` and failed or expired prepares to
``garbage``, then deletes garbage pods (those in ``exited-garbage`` once the grace period
has passed since they were moved). Deleting a pod asks its flavor to release what it
made, tears down its networks, unmounts whatever is left under its directory, and
removes it.

One pass does the shared work once: each flavor is loaded (and its settings read) once,
and the mount table is read once; only pods with something mounted below them pay for
unmounting, and only pods with a saved network state for the network teardown.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rkt.paths import DataDir
from rkt.pods.layout import PodRef, iter_pods
from rkt.pods.lock import DirLock, PodLocked
from rkt_sdk.errors import RktError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rkt.stage1.loader import Flavor

Say = Callable[[str], None]


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def _out(msg: str) -> None:
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class FlavorCache:
    """Flavors loaded once each for a pass over many pods, with their per-host settings.

    A flavor that fails to load fails the same way for every pod: the error is kept and raised again.
    ``known`` is a flavor already loaded, with its settings if already read.
    """

    def __init__(self, data: DataDir, config_dirs: tuple[Path, ...],
                 known: tuple[Flavor, Mapping[str, Any] | None] | None = None) -> None:
        self.data = data
        self.config_dirs = config_dirs
        self._loaded: dict[str, tuple[Flavor, Mapping[str, Any]] | Exception] = {}
        self._known = {known[0].name: known} if known is not None else {}

    def get(self, name: str) -> tuple[Flavor, Mapping[str, Any]]:
        """The flavor called ``name`` and its settings; raises what loading it raised."""
        got = self._loaded.get(name)
        if got is None:
            try:
                from rkt.stage1.loader import load_flavor

                flavor, settings = self._known.get(name) or (load_flavor(name, self.data.cache), None)
                got = (flavor, settings if settings is not None else flavor.settings(self.config_dirs))
            except Exception as e:  # kept for the next pod of this flavor
                got = e
            self._loaded[name] = got
        if isinstance(got, Exception):
            raise got
        return got


class MountTable:
    """Which pod directories have something mounted below them, from one read of the mount table.

    Mounts follow a pod directory when it is renamed, so the table stays right while the pass
    moves pods between state directories; it is read after the moves anyway.
    """

    def __init__(self, data: DataDir) -> None:
        self._pods = os.path.realpath(data.pods) + "/"
        self._mounted: dict[str, list[str]] = {}
        with open("/proc/self/mountinfo", "rb") as f:
            text = f.read().decode(errors="surrogateescape")
        prefix = self._pods
        for line in text.splitlines():
            fields = line.split(" ", 5)
            if len(fields) < 6:
                continue
            point = fields[4]
            if "\\" in point:
                point = point.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace(
                    "\\134", "\\")
            if point.startswith(prefix):
                state_and_uuid = point[len(prefix):].split("/", 2)[:2]
                self._mounted.setdefault("/".join(state_and_uuid), []).append(point[len(prefix):])

    def has_mounts(self, ref: PodRef) -> bool:
        """Whether anything is mounted at or below the pod's directory."""
        return f"{ref.dir_state}/{ref.uuid}" in self._mounted

    def unmount(self, ref: PodRef) -> bool:
        """Detach the pod's mounts the table saw, deepest first, without reading the table again.

        A point that is no longer a mount (its flavor's gc detached it) counts as done. False if
        one could not be detached: the caller then takes the careful path, which reads the table.
        """
        from rkt_sdk.linux.mount import MNT_DETACH, UMOUNT_NOFOLLOW, MountError, umount

        base = str(ref.path) + "/"
        for rel in reversed(self._mounted.get(f"{ref.dir_state}/{ref.uuid}", [])):
            parts = rel.split("/", 2)
            point = base + parts[2] if len(parts) > 2 else base.rstrip("/")
            try:
                umount(point, MNT_DETACH | UMOUNT_NOFOLLOW)
            except MountError as e:
                if e.errno not in (errno.EINVAL, errno.ENOENT):
                    return False
        return True


def release_pod_resources(path: Path, uuid: str, data: DataDir, config_dirs: tuple[Path, ...],
                          flavors: FlavorCache | None = None, err: Say = _err) -> None:
    """Ask the pod's flavor to clean up, then tear down networks (lock held by caller)."""
    from rkt_sdk.poddir import PodDir

    try:
        name = PodDir(path).read_stage1().name
    except RktError:  # the pod never got as far as naming its flavor
        name = ""
    if name:
        try:
            flavor, settings = (flavors or FlavorCache(data, config_dirs)).get(name)
            flavor.hook.rkt_stage1_gc(pod_path=path, uuid=uuid, settings=settings)
        except RktError as e:
            err(f"gc: skipping stage1 GC of pod {uuid!r}: {e}")
        except Exception as e:  # a third-party flavor's bug must not stop gc
            err(f"gc: problem performing stage1 GC on {uuid!r}: {type(e).__name__}: {e}")
    if os.path.isdir(path / "net"):
        try:
            from rkt import net

            net.teardown(path, data.root)
        except Exception as e:
            err(f"gc: network teardown of pod {uuid!r} failed: {e}")


def _remove_dir(path: Path, may_have_mounts: bool) -> None:
    """Remove the pod directory; unmount first (and refuse to delete through a mount) when needed."""
    if may_have_mounts:
        from rkt.pods.prepare import remove_pod_dir

        remove_pod_dir(path)
        return
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def delete_pod(ref: PodRef, data: DataDir, config_dirs: tuple[Path, ...], *, lock: DirLock | None = None,
               flavors: FlavorCache | None = None, mounts: MountTable | None = None, err: Say = _err) -> bool:
    """Remove a pod that nobody holds; False if it is locked (running or being changed).

    ``flavors`` and ``mounts`` are shared by a pass over many pods; without ``mounts`` the
    mount table is read for this pod.
    """
    try:
        held = lock or DirLock.acquire(ref.path)
    except PodLocked:
        return False
    except FileNotFoundError:
        return True
    try:
        release_pod_resources(ref.path, ref.uuid, data, config_dirs, flavors, err)
        mounted = mounts is None or mounts.has_mounts(ref)
        if mounted and mounts is not None and mounts.unmount(ref):
            mounted = False  # every mount the pass's table saw is detached: no second read
        _remove_dir(ref.path, mounted)
    except RktError as e:  # something is still mounted: the directory is kept
        err(f"gc: {e}")
        return False
    finally:
        held.release()
    return True


def discard_pod(uuid: str, lock: DirLock, data: DataDir, config_dirs: tuple[Path, ...],
                flavors: FlavorCache | None = None) -> None:
    """Undo a pod whose start failed, wherever it got to (``lock.path``): what :func:`delete_pod`
    does for ``gc``, and the lock is released. What cannot be undone is said on stderr."""
    ref = PodRef(uuid, lock.path.parent.name, lock.path)
    delete_pod(ref, data, config_dirs, lock=lock, flavors=flavors,
               err=lambda msg: _err(f"rkt: warning: undoing the failed start: {msg.removeprefix('gc: ')}"))


class _Mover:
    """Renames pods into a state directory, made on first use."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self.made: set[str] = set()

    def move(self, ref: PodRef, state: str) -> None:
        dest = self.data.pod_state_dir(state)
        if state not in self.made:
            dest.mkdir(parents=True, exist_ok=True)
            self.made.add(state)
        try:
            os.rename(ref.path, dest / ref.uuid)
        except FileNotFoundError:
            pass


def gc(data: DataDir, config_dirs: tuple[Path, ...], *, grace: float, expire_prepared: float,
       mark_only: bool = False, out: Say = _out, err: Say = _err) -> None:
    """One garbage-collection pass, printing what it does as rkt did."""
    mover = _Mover(data)
    for ref in list(iter_pods(data, ("run",))):
        if ref.state() == "exited":
            from rkt.pods.control import reported_running

            if reported_running(ref, data, config_dirs):
                err(f'pod "{ref.uuid}" not moved to garbage: its flavor reports apps still running (rkt stop it)')
                continue
            err(f'moving pod "{ref.uuid}" to garbage')
            mover.move(ref, "exited-garbage")
    for ref in list(iter_pods(data, ("prepare", "embryo"))):
        if ref.state() in ("aborted prepare", "embryo") and not _locked(ref):
            err(f'moving failed prepare "{ref.uuid}" to garbage')
            mover.move(ref, "garbage")
    for ref in list(iter_pods(data, ("prepared",))):
        try:
            ctime = os.lstat(ref.path).st_ctime
        except FileNotFoundError:
            continue
        if ref.state() == "prepared" and _expired(ctime, expire_prepared):
            err(f'moving expired prepared pod "{ref.uuid}" to garbage')
            mover.move(ref, "garbage")
    if mark_only:
        return
    doomed: list[PodRef] = []
    for ref in list(iter_pods(data, ("exited-garbage",))):
        try:
            ctime = os.lstat(ref.path).st_ctime
        except FileNotFoundError:
            continue
        if _expired(ctime, grace):
            doomed.append(ref)
        else:
            err(f'pod "{ref.uuid}" not removed: still within grace period ({_fmt(grace)})')
    doomed += iter_pods(data, ("garbage",))
    if not doomed:
        return
    flavors = FlavorCache(data, config_dirs)
    mounts = MountTable(data)
    for ref in doomed:
        try:
            lock = DirLock.acquire(ref.path)
        except (PodLocked, FileNotFoundError):
            continue
        out(f'Garbage collecting pod "{ref.uuid}"')
        delete_pod(ref, data, config_dirs, lock=lock, flavors=flavors, mounts=mounts)


def _expired(ctime: float, period: float) -> bool:
    """Whether ``period`` seconds have passed since ``ctime`` (read now: a pod moved by this pass counts)."""
    return ctime + period <= time.time()


def _locked(ref: PodRef) -> bool:
    from rkt.pods.lock import is_locked

    return is_locked(ref.path)


def _fmt(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m or h else "") + f"{sec}s"


def remove(ref: PodRef, data: DataDir, config_dirs: tuple[Path, ...], err: Say = _err) -> bool:
    """``rkt rm`` of one pod: only exited, prepared or garbage pods; False (with a message) otherwise."""
    state = ref.state()
    if state == "running":
        err(f'pod "{ref.uuid}" is currently running')
        return False
    if state in ("embryo", "preparing"):
        err(f'pod "{ref.uuid}" is currently being prepared')
        return False
    if state == "deleting":
        err(f'pod "{ref.uuid}" is currently being deleted')
        return False
    try:
        lock = DirLock.acquire(ref.path)
    except PodLocked:
        err(f'pod "{ref.uuid}": unable to acquire exclusive lock')
        return False
    except FileNotFoundError:
        return True
    if state == "exited":
        dest = data.pod_state_dir("exited-garbage")
        dest.mkdir(parents=True, exist_ok=True)
        os.rename(ref.path, dest / ref.uuid)
        ref = PodRef(ref.uuid, "exited-garbage", dest / ref.uuid)
        lock.path = ref.path
    return delete_pod(ref, data, config_dirs, lock=lock)
