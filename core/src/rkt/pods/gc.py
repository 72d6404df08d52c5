"""Garbage collection and removal of pods, as rkt did it.

``gc`` moves exited pods to ``exited-garbage`` and failed or expired prepares to
``garbage``, then deletes garbage pods (those in ``exited-garbage`` once the grace period
has passed since they were moved). Deleting a pod asks its flavor to release what it
made, tears down its networks, unmounts whatever is left under its directory, and
removes it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rkt.paths import DataDir
from rkt.pods.layout import PodRef, iter_pods
from rkt.pods.lock import DirLock, PodLocked
from rkt.pods.prepare import StillMounted, remove_pod_dir
from rkt_sdk.errors import RktError

Say = Callable[[str], None]


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def _out(msg: str) -> None:
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def _move(ref: PodRef, data: DataDir, state: str) -> None:
    dest = data.pod_state_dir(state)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(ref.path, dest / ref.uuid)
    except FileNotFoundError:
        pass


def stage1_record(path: Path) -> dict[str, object]:
    try:
        data = json.loads((path / "stage1").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def release_pod_resources(path: Path, uuid: str, data: DataDir, config_dirs: tuple[Path, ...]) -> None:
    """Ask the pod's flavor to clean up, tear down networks, unmount leftovers (lock held by caller)."""
    rec = stage1_record(path)
    name = rec.get("name")
    if isinstance(name, str) and name:
        try:
            from rkt.stage1.loader import load_flavor

            flavor = load_flavor(name, data.cache)
            flavor.hook.rkt_stage1_gc(pod_path=path, uuid=uuid, settings=flavor.settings(config_dirs))
        except RktError as e:
            _err(f"gc: skipping stage1 GC of pod {uuid!r}: {e}")
        except Exception as e:  # a third-party flavor's bug must not stop gc
            _err(f"gc: problem performing stage1 GC on {uuid!r}: {type(e).__name__}: {e}")
    if (path / "net").exists():
        try:
            from rkt import net

            net.teardown(path, data.root)
        except Exception as e:
            _err(f"gc: network teardown of pod {uuid!r} failed: {e}")


def delete_pod(ref: PodRef, data: DataDir, config_dirs: tuple[Path, ...], *, lock: DirLock | None = None) -> bool:
    """Remove a pod that nobody holds; False if it is locked (running or being changed)."""
    try:
        held = lock or DirLock.acquire(ref.path)
    except PodLocked:
        return False
    except FileNotFoundError:
        return True
    try:
        release_pod_resources(ref.path, ref.uuid, data, config_dirs)
        remove_pod_dir(ref.path)
    except StillMounted as e:
        _err(f"gc: {e}")
        return False
    finally:
        held.release()
    return True


def gc(data: DataDir, config_dirs: tuple[Path, ...], *, grace: float, expire_prepared: float,
       mark_only: bool = False, out: Say = _out, err: Say = _err) -> None:
    """One garbage-collection pass, printing what it does as rkt did."""
    for ref in list(iter_pods(data, ("run",))):
        if ref.state() == "exited":
            err(f'moving pod "{ref.uuid}" to garbage')
            _move(ref, data, "exited-garbage")
    for ref in list(iter_pods(data, ("prepare", "embryo"))):
        if ref.state() in ("aborted prepare", "embryo") and not _locked(ref):
            err(f'moving failed prepare "{ref.uuid}" to garbage')
            _move(ref, data, "garbage")
    for ref in list(iter_pods(data, ("prepared",))):
        try:
            ctime = os.lstat(ref.path).st_ctime
        except FileNotFoundError:
            continue
        if ref.state() == "prepared" and _expired(ctime, expire_prepared):
            err(f'moving expired prepared pod "{ref.uuid}" to garbage')
            _move(ref, data, "garbage")
    if mark_only:
        return
    for ref in list(iter_pods(data, ("exited-garbage",))):
        try:
            ctime = os.lstat(ref.path).st_ctime
        except FileNotFoundError:
            continue
        if _expired(ctime, grace):
            if not _locked(ref):
                out(f'Garbage collecting pod "{ref.uuid}"')
                delete_pod(ref, data, config_dirs)
        else:
            err(f'pod "{ref.uuid}" not removed: still within grace period ({_fmt(grace)})')
    for ref in list(iter_pods(data, ("garbage",))):
        if not _locked(ref):
            out(f'Garbage collecting pod "{ref.uuid}"')
            delete_pod(ref, data, config_dirs)


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
