"""Busybox ACI images for the conformance tests.

:func:`busybox_aci` writes an uncompressed ACI: a ``manifest`` and a ``rootfs/`` holding
a static busybox, links for the applets the tests use, ``/etc/passwd``, ``/etc/group`` and
extra files. It needs the ``busybox-static`` binary of the host (``busybox`` on ``PATH``).
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Applets linked in the image's /bin.
APPLETS = ("sh", "cat", "echo", "env", "id", "ls", "sleep", "true", "false", "test", "touch", "grep", "dd",
           "printf", "ip", "mkdir", "rm", "stat", "head", "wc", "hostname", "pwd", "kill", "uname", "cut", "tr")

_MTIME = 1_500_000_000


class BusyboxMissing(RuntimeError):
    """No static busybox on this host (install busybox-static)."""


def find_busybox() -> Path:
    """The host's busybox binary."""
    for cand in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if cand and Path(cand).is_file():
            return Path(cand)
    raise BusyboxMissing("no busybox binary found on this host: install busybox-static")


def image_manifest(name: str, exec_: Sequence[str], env: Mapping[str, str],
                   isolators: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """An appc image manifest for a linux/amd64 image running ``exec_`` as root, with ``isolators``."""
    return {
        "acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
        "labels": [{"name": "version", "value": "1.0"}, {"name": "os", "value": "linux"},
                   {"name": "arch", "value": "amd64"}],
        "app": {"exec": list(exec_), "user": "0", "group": "0",
                "environment": [{"name": k, "value": v} for k, v in env.items()],
                **({"isolators": [dict(i) for i in isolators]} if isolators else {})},
    }


def _entry(tf: tarfile.TarFile, name: str, kind: bytes, *, data: bytes = b"", mode: int = 0o755,
           target: str = "") -> None:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = _MTIME
    ti.linkname = target
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def busybox_aci(dest: Path, name: str, *, exec_: Sequence[str] = ("/bin/sh",),
                env: Mapping[str, str] | None = None, files: Mapping[str, str] | None = None,
                isolators: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write a busybox ACI named ``name`` to ``dest`` and return ``dest``.

    :param files: extra regular files, absolute path in the image -> text.
    :param isolators: the app's isolators in the image manifest (``{"name": ..., "value": ...}``).
    """
    busybox = find_busybox().read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        man = json.dumps(image_manifest(name, exec_, env or {}, isolators)).encode()
        _entry(tf, "manifest", tarfile.REGTYPE, data=man, mode=0o644)
        _entry(tf, "rootfs", tarfile.DIRTYPE)
        dirs = {"bin", "etc", "tmp", "proc", "sys", "dev", "root", "var", "run", "mnt"}
        for p in (files or {}):
            parts = p.strip("/").split("/")[:-1]
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for d in sorted(dirs):
            _entry(tf, f"rootfs/{d}", tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
        _entry(tf, "rootfs/bin/busybox", tarfile.REGTYPE, data=busybox)
        for a in APPLETS:
            _entry(tf, f"rootfs/bin/{a}", tarfile.SYMTYPE, target="busybox")
        _entry(tf, "rootfs/etc/passwd", tarfile.REGTYPE, mode=0o644,
               data=b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        _entry(tf, "rootfs/etc/group", tarfile.REGTYPE, mode=0o644, data=b"root:x:0:\nnogroup:x:65534:\n")
        for p, text in (files or {}).items():
            _entry(tf, "rootfs/" + p.strip("/"), tarfile.REGTYPE, data=text.encode(), mode=0o644)
    dest.write_bytes(buf.getvalue())
    return dest
