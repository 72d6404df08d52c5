"""Pod state from the state directory and the flock on the pod directory (real locks, no root needed)."""

from __future__ import annotations

import os
import time
import uuid as uuidlib
from pathlib import Path

import pytest

from rkt.paths import DataDir
from rkt.pods.gc import _expired
from rkt.pods.layout import AmbiguousPod, PodNotFound, find_pod, iter_pods
from rkt.pods.lock import DirLock, PodLocked, is_locked, wait_unlocked


def _pod(data: DataDir, state: str, uid: str | None = None) -> Path:
    p = data.pod_state_dir(state) / (uid or str(uuidlib.uuid4()))
    p.mkdir(parents=True)
    return p


@pytest.mark.parametrize("state, unlocked, locked", [
    ("embryo", "embryo", "embryo"),
    ("prepare", "aborted prepare", "preparing"),
    ("prepared", "prepared", "preparing"),
    ("run", "exited", "running"),
    ("exited-garbage", "exited-garbage", "deleting"),
    ("garbage", "garbage", "deleting"),
])
def test_state_from_directory_and_lock(tmp_path: Path, state: str, unlocked: str, locked: str) -> None:
    data = DataDir(tmp_path)
    path = _pod(data, state)
    (ref,) = iter_pods(data)
    assert ref.state() == unlocked
    with DirLock.acquire(path):
        assert ref.state() == locked
    assert ref.state() == unlocked


def test_lock_is_exclusive_and_follows_renames(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    path = _pod(data, "prepared")
    lock = DirLock.acquire(path)
    with pytest.raises(PodLocked):
        DirLock.acquire(path)
    moved = data.pod_state_dir("run") / path.name
    moved.parent.mkdir(parents=True)
    os.rename(path, moved)
    assert is_locked(moved)
    assert not wait_unlocked(moved, timeout=0.1)
    lock.release()
    lock.release()
    assert not is_locked(moved)
    assert wait_unlocked(moved, timeout=0.1)


def test_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    path = _pod(DataDir(tmp_path), "run")
    pid = os.fork()
    if pid == 0:
        DirLock.acquire(path)
        time.sleep(30)
        os._exit(0)
    deadline = time.monotonic() + 5
    while not is_locked(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert is_locked(path)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    assert not is_locked(path)


def test_find_pod_by_prefix(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    _pod(data, "run", "11111111-0000-4000-8000-000000000001")
    _pod(data, "prepared", "11111111-0000-4000-8000-000000000002")
    assert find_pod(data, "11111111-0000-4000-8000-000000000002").dir_state == "prepared"
    with pytest.raises(AmbiguousPod, match='"11111111"'):
        find_pod(data, "11111111")
    with pytest.raises(PodNotFound, match='no matches found for "2222"'):
        find_pod(data, "2222")
    with pytest.raises(PodNotFound):
        find_pod(data, "")


def test_expired_counts_a_pod_moved_just_now() -> None:
    assert _expired(time.time(), 0.0)
    assert not _expired(time.time(), 60.0)
