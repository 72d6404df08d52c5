"""Finding pods in the state directories and telling their state.

State comes from which directory holds the pod and whether its lock is held:

============== ================ ===============================
directory      lock held        state
============== ================ ===============================
embryo         any              embryo
prepare        yes / no         preparing / aborted prepare
prepared       yes / no         preparing(run) / prepared
run            yes / no         running / exited
exited-garbage yes / no         deleting / exited-garbage
garbage        yes / no         deleting / garbage
============== ================ ===============================
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path

from rkt.paths import POD_STATES, DataDir
from rkt.pods.lock import is_locked
from rkt_sdk.errors import RktError


class PodNotFound(RktError):
    """No pod matches the UUID (or prefix) given."""


class AmbiguousPod(RktError):
    """A UUID prefix matches several pods."""


class PodRef(namedtuple("PodRef", "uuid dir_state path")):
    """A pod found on disk: its UUID, the state directory holding it, and its path."""

    __slots__ = ()
    uuid: str
    dir_state: str
    path: Path

    def state(self) -> str:
        """The pod's state (see the module doc); checks the lock, never blocks."""
        locked = is_locked(self.path)
        match self.dir_state:
            case "embryo":
                return "embryo"
            case "prepare":
                return "preparing" if locked else "aborted prepare"
            case "prepared":
                return "preparing" if locked else "prepared"
            case "run":
                return "running" if locked else "exited"
            case "exited-garbage":
                return "deleting" if locked else "exited-garbage"
            case _:
                return "deleting" if locked else "garbage"


def iter_pods(data: DataDir, states: tuple[str, ...] = POD_STATES) -> Iterator[PodRef]:
    """Every pod in the given state directories (a pod mid-rename may be missed or seen twice)."""
    for st in states:
        d = data.pod_state_dir(st)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            if len(n) == 36 and not n.startswith("."):
                yield PodRef(n, st, d / n)


def find_pod(data: DataDir, uuid_or_prefix: str) -> PodRef:
    """The one pod whose UUID starts with ``uuid_or_prefix`` (or equals it).

    Tries twice, since a pod may move between state directories while we look.
    """
    want = uuid_or_prefix.strip().lower()
    if not want:
        raise PodNotFound("empty UUID")
    for _ in range(3):
        found = {p.uuid: p for p in iter_pods(data) if p.uuid.startswith(want)}
        if len(found) == 1:
            ref = next(iter(found.values()))
            if ref.path.exists():
                return ref
            continue
        if len(found) > 1:
            raise AmbiguousPod(f'UUID prefix "{uuid_or_prefix}" is ambiguous: matches {len(found)} pods')
        break
    raise PodNotFound(f'no matches found for "{uuid_or_prefix}"')


def read_uuid_file(path: str) -> str:
    """The UUID saved by ``--uuid-file-save`` in ``path``."""
    try:
        with open(path, "rb") as f:
            raw = f.read(4096)  # a UUID and some whitespace; never all of /dev/zero
    except OSError as e:
        raise RktError(f"unable to read UUID from file {path!r}: {e.strerror}") from None
    text = raw.decode("utf-8", "replace").strip()
    if len(raw) == 4096 or not text or any(not c.isprintable() for c in text):
        raise RktError(f"unable to read UUID from file {path!r}: it does not hold a UUID")
    return text
