"""Named network namespaces, as ``ip netns`` keeps them: bind mounts under ``/var/run/netns``.

Only the standard library (ctypes) is used, so a ``--net=none`` pod loads no netlink code.
A namespace is made by a short-lived thread that unshares its own network namespace, brings
its loopback up, and bind-mounts it at the namespace's path; the thread then ends.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import struct
from pathlib import Path

from rkt.net.errors import NetworkError

RUN_DIR = Path("/var/run/netns")
_CLONE_NEWNET = 0x40000000
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_SHARED = 1 << 20
_MNT_DETACH = 2
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def path_for(uuid: str) -> Path:
    """Where the pod's namespace is mounted (``ip netns`` lists it as ``rkt-<uuid>``)."""
    return RUN_DIR / f"rkt-{uuid}"


def _mount(src: bytes | None, target: bytes, fstype: bytes | None, flags: int) -> int:
    if _libc.mount(src, target, fstype, ctypes.c_ulong(flags), None) != 0:
        return ctypes.get_errno()
    return 0


def _ensure_run_dir() -> None:
    """Make the run directory a shared mount point, as ``ip netns`` does, so that mounts made
    in it propagate to (and their removal from) mount namespaces cloned later."""
    RUN_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    d = bytes(RUN_DIR)
    err = _mount(b"none", d, b"none", _MS_SHARED | _MS_REC)
    if err == errno.EINVAL:
        err = _mount(d, d, b"none", _MS_BIND | _MS_REC) or _mount(b"none", d, b"none", _MS_SHARED | _MS_REC)
    if err:
        raise NetworkError(f"{RUN_DIR}: cannot make a shared mount point: {os.strerror(err)}")


def _loopback_up() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, _SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0))
        flags = struct.unpack("16sH22x", ifr)[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def create(path: Path) -> None:
    """Make a fresh network namespace with only ``lo`` (up) and mount it at ``path``.

    :raises NetworkError: the path exists already or the kernel refused.
    """
    _ensure_run_dir()
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    except FileExistsError:
        raise NetworkError(f"network namespace {path} exists already") from None
    import threading

    failure: list[str] = []

    def make() -> None:
        # This thread's own network namespace: the other threads are not affected, and it ends with the thread.
        if _libc.unshare(_CLONE_NEWNET) != 0:
            failure.append(f"unshare: {os.strerror(ctypes.get_errno())}")
            return
        err = _mount(f"/proc/self/task/{threading.get_native_id()}/ns/net".encode(), bytes(path), b"none", _MS_BIND)
        if err:
            failure.append(f"bind mount: {os.strerror(err)}")
            return
        try:
            _loopback_up()
        except OSError as e:
            failure.append(f"loopback up: {e.strerror}")

    t = threading.Thread(target=make, name="rkt-netns")
    t.start()
    t.join()
    if failure:
        remove(path)
        raise NetworkError(f"network namespace {path}: {failure[0]}")


def remove(path: Path) -> None:
    """Unmount and delete a namespace made by :func:`create`; nothing happens if it is gone."""
    _libc.umount2(bytes(path), _MNT_DETACH)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
