"""Mounting and unmounting through the mount(2) and umount2(2) system calls, and mountinfo.

All calls raise :class:`MountError` (an :class:`~rkt_sdk.errors.RktError`) naming the
target and the kernel's reason.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


class MountError(RktError):
    """A mount or unmount failed; :attr:`errno` is the kernel's reason (0 when there is none)."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.errno = errno


def _b(v: str | os.PathLike[str] | None) -> bytes | None:
    return None if v is None else os.fsencode(v)


def mount(source: str | os.PathLike[str] | None, target: str | os.PathLike[str], fstype: str | None = None,
          flags: int = 0, data: str | None = None) -> None:
    """mount(2): mount ``source`` on ``target``."""
    if _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)) != 0:
        err = ctypes.get_errno()
        what = fstype or ("bind" if flags & MS_BIND else "mount")
        raise MountError(f"mount {what} {source or ''} on {target}: {os.strerror(err)}", err)


def bind(source: str | os.PathLike[str], target: str | os.PathLike[str], *, read_only: bool = False,
         recursive: bool = True, extra_flags: int = 0) -> None:
    """Bind-mount ``source`` on ``target``, read-only if asked (a bind then a remount)."""
    flags = MS_BIND | (MS_REC if recursive else 0)
    mount(source, target, None, flags)
    if read_only or extra_flags:
        mount(None, target, None, MS_BIND | MS_REMOUNT | (MS_RDONLY if read_only else 0) | extra_flags)


def umount(target: str | os.PathLike[str], flags: int = 0) -> None:
    """umount2(2) of ``target``."""
    if _libc.umount2(_b(target), flags) != 0:
        err = ctypes.get_errno()
        raise MountError(f"unmount {target}: {os.strerror(err)}", err)


class MountInfo(Record):
    """One line of /proc/<pid>/mountinfo."""

    mount_id: int
    parent_id: int
    mount_point: str
    root: str
    fstype: str
    source: str
    options: str


def _unescape(s: str) -> str:
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_mountinfo(text: str) -> list[MountInfo]:
    """Parse the text of a mountinfo file."""
    out = []
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) < 10:
            continue
        sep = parts.index("-", 6)
        out.append(MountInfo(int(parts[0]), int(parts[1]), _unescape(parts[4]), _unescape(parts[3]),
                             parts[sep + 1], _unescape(parts[sep + 2]), parts[5]))
    return out


def mounts(pid: int | str = "self") -> list[MountInfo]:
    """The mounts of a process's mount namespace."""
    with open(f"/proc/{pid}/mountinfo") as f:
        return parse_mountinfo(f.read())


def mounts_under(path: str | os.PathLike[str], pid: int | str = "self") -> list[str]:
    """Mount points at or below ``path``, deepest (most recently mounted) first."""
    root = os.path.realpath(path)
    prefix = root.rstrip("/") + "/"
    found = [m.mount_point for m in mounts(pid) if m.mount_point == root or m.mount_point.startswith(prefix)]
    return list(reversed(found))


def unmount_tree(path: str | os.PathLike[str]) -> list[str]:
    """Unmount everything mounted at or below ``path`` (lazily); return what was unmounted.

    Idempotent: a path with nothing mounted is fine, and so is a missing path.
    """
    done = []
    for _ in range(3):
        targets = mounts_under(path) if os.path.exists(path) else []
        if not targets:
            break
        for t in targets:
            try:
                umount(t, MNT_DETACH | UMOUNT_NOFOLLOW)
                done.append(t)
            except MountError:
                pass
    return done


def make_shared(target: str | os.PathLike[str]) -> None:
    """Make the mount at ``target`` shared: mounts made under it later also appear in the mount
    namespaces that copied it (as slaves), such as a VM emulator's private namespace."""
    mount(None, target, None, MS_SHARED)


def remove_unmounted(path: str | os.PathLike[str]) -> str | None:
    """Unmount everything at or below ``path``, then remove it (a missing path is fine).

    Never removes through a mount that is still there: that would delete the host's files
    behind a bind mount (a host volume, ``/dev``).

    :returns: None once ``path`` is gone; else the first mount point that stayed (nothing is removed).
    """
    if not os.path.exists(path):
        return None
    unmount_tree(path)
    left = mounts_under(path)
    if left:
        return left[0]
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    return None


def make_private(target: str = "/", recursive: bool = True) -> None:
    """Stop mount events propagating from ``target`` to the parent namespace."""
    mount(None, target, None, MS_PRIVATE | (MS_REC if recursive else 0))


def resolve_in_root(root: str | os.PathLike[str], path: str) -> Path:
    """Resolve ``path`` as if ``root`` were ``/``: symlinks inside the image cannot lead out.

    Every component is looked up under ``root``; an absolute symlink is taken relative to
    ``root`` and ``..`` stops at ``root``. The result is a host path inside ``root``
    (components that do not exist yet are kept as given).
    """
    top = os.path.realpath(root)
    todo = [p for p in reversed(path.split("/")) if p and p != "."]
    current = top
    hops = 0
    while todo:
        part = todo.pop()
        if part == "..":
            if current != top:
                current = os.path.dirname(current)
            continue
        candidate = f"{current}/{part}" if current != "/" else f"/{part}"
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise MountError(f"too many levels of symbolic links resolving {path!r} in {top}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = top
            todo.extend(p for p in reversed(target.split("/")) if p and p != ".")
            continue
        current = candidate
    return Path(current)
