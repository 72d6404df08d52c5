"""Build ACI images for tests out of busybox-static.

``build_aci(dest, ...)`` writes a tar (optionally compressed) holding ``manifest`` and a
``rootfs/`` with busybox, its applets as symlinks, /etc/passwd and /etc/group, and any
extra files the test asks for.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BUSYBOX = Path(shutil.which("busybox") or "/bin/busybox")

APPLETS = ("sh", "ash", "cat", "echo", "env", "id", "ls", "mkdir", "mount", "ps", "sleep", "true", "false",
           "test", "touch", "grep", "head", "hostname", "wc", "kill", "stat", "readlink", "rm", "dd",
           "printf", "pwd", "cut", "sed", "tr", "date", "uname", "ip", "ping", "wget", "nc", "httpd", "seq",
           "tail", "sort", "timeout", "chmod", "ln", "cp", "mv", "find", "xargs", "awk", "expr", "tee",
           "nslookup", "ifconfig", "route", "basename", "dirname", "sync", "uptime", "free", "whoami",
           "df", "umount", "nproc", "yes", "md5sum", "sha256sum", "nohup", "trap", "unshare", "nsenter")

PASSWD = ("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/:/bin/false\n")
GROUP = "root:x:0:\nwheel:x:10:root\nuser:x:1000:\naudio:x:29:user\nvideo:x:44:user\nnogroup:x:65534:\n"


def manifest(name: str = "example.com/busybox", version: str = "1.0", exec_: Sequence[str] = ("/bin/sh",),
             env: Mapping[str, str] | None = None, user: str = "0", group: str = "0",
             app: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None,
             with_app: bool = True) -> dict[str, Any]:
    """An image manifest dict; ``app`` entries override the generated app section."""
    labs = {"version": version, "os": "linux", "arch": "amd64"}
    labs.update(labels or {})
    m: dict[str, Any] = {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
                         "labels": [{"name": k, "value": v} for k, v in labs.items() if v is not None]}
    if with_app:
        a: dict[str, Any] = {"exec": list(exec_), "user": user, "group": group,
                             "environment": [{"name": k, "value": v} for k, v in (env or {}).items()]}
        a.update(app or {})
        m["app"] = a
    return m


def _add(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 1_600_000_000
    tf.addfile(ti, io.BytesIO(data))


def _dir(tf: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    ti.mtime = 1_600_000_000
    tf.addfile(ti)


def _link(tf: tarfile.TarFile, name: str, target: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.SYMTYPE
    ti.linkname = target
    ti.mtime = 1_600_000_000
    tf.addfile(ti)


def build_aci(dest: Path, name: str = "example.com/busybox", version: str = "1.0",
              exec_: Sequence[str] = ("/bin/sh",), *, env: Mapping[str, str] | None = None,
              files: Mapping[str, bytes | str] | None = None, app: Mapping[str, Any] | None = None,
              labels: Mapping[str, str] | None = None, user: str = "0", group: str = "0",
              compression: str = "", manifest_override: Mapping[str, Any] | None = None,
              with_app: bool = True) -> Path:
    """Write a busybox ACI to ``dest`` and return ``dest``.

    :param files: extra files under rootfs (path relative to / -> content); executable if
        the content starts with ``#!``.
    :param compression: ``""``, ``"gz"``, ``"bz2"``, ``"xz"`` or ``"zst"``.
    :param manifest_override: replaces the generated manifest entirely.
    """
    m = dict(manifest_override) if manifest_override is not None else manifest(
        name, version, exec_, env, user, group, app, labels, with_app)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        _add(tf, "manifest", json.dumps(m).encode())
        _dir(tf, "rootfs")
        for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "home", "home/user", "var", "usr"):
            _dir(tf, f"rootfs/{d}", 0o1777 if d == "tmp" else 0o755)
        _add(tf, "rootfs/bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for a in APPLETS:
            _link(tf, f"rootfs/bin/{a}", "busybox")
        _add(tf, "rootfs/etc/passwd", PASSWD.encode())
        _add(tf, "rootfs/etc/group", GROUP.encode())
        made_dirs: set[str] = set()
        for path, content in (files or {}).items():
            rel = path.lstrip("/")
            parts = rel.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in made_dirs and d not in ("bin", "etc", "tmp", "root", "home", "var", "usr"):
                    _dir(tf, f"rootfs/{d}")
                    made_dirs.add(d)
            data = content.encode() if isinstance(content, str) else content
            _add(tf, f"rootfs/{rel}", data, 0o755 if data.startswith(b"#!") else 0o644)
    raw = buf.getvalue()
    dest = Path(dest)
    if compression == "gz":
        import gzip
        raw = gzip.compress(raw, 6)
    elif compression == "bz2":
        import bz2
        raw = bz2.compress(raw)
    elif compression == "xz":
        import lzma
        raw = lzma.compress(raw)
    elif compression == "zst":
        import zstandard
        raw = zstandard.ZstdCompressor().compress(raw)
    elif compression:
        raise ValueError(f"unknown compression {compression!r}")
    dest.write_bytes(raw)
    os.chmod(dest, 0o644)
    return dest


def tiny_aci(path: Path, name: str = "example.com/app", version: str = "1.0") -> Path:
    """An ACI with a manifest and one file (enough for the store; nothing here runs it)."""
    m = {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
         "labels": [{"name": "version", "value": version}, {"name": "os", "value": "linux"},
                    {"name": "arch", "value": "amd64"}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tf:
        for entry, data in (("manifest", json.dumps(m).encode()), ("rootfs/hello", b"hello\n")):
            ti = tarfile.TarInfo(entry)
            ti.size = len(data)
            ti.mtime = 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))
    return path
