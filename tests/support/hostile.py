"""Build hostile and broken ACI archives for tests of the image store's safe extraction.

Each case in :data:`CASES` is a list of entries (made with :func:`reg`, :func:`dir_`,
:func:`sym`, :func:`hard`, :func:`dev`, :func:`fifo`) and the text the error must contain.
:func:`build` writes them, after a valid manifest unless told otherwise, to a file.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.aci import manifest as make_manifest


@dataclass
class Entry:
    """One tar entry to write."""

    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    linkname: str = ""
    mode: int = 0o644
    devmajor: int = 0
    devminor: int = 0
    pax: dict[str, str] = field(default_factory=dict)

    def tarinfo(self) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(self.name)
        ti.type = self.type
        ti.mode = self.mode
        ti.mtime = 1_600_000_000
        ti.linkname = self.linkname
        ti.size = len(self.data) if self.type == tarfile.REGTYPE else 0
        ti.devmajor, ti.devminor = self.devmajor, self.devminor
        ti.pax_headers = dict(self.pax)
        return ti


def reg(name: str, data: bytes | str = b"x", mode: int = 0o644, pax: dict[str, str] | None = None) -> Entry:
    return Entry(name, tarfile.REGTYPE, data.encode() if isinstance(data, str) else data, mode=mode,
                 pax=pax or {})


def dir_(name: str, mode: int = 0o755) -> Entry:
    return Entry(name, tarfile.DIRTYPE, mode=mode)


def sym(name: str, target: str) -> Entry:
    return Entry(name, tarfile.SYMTYPE, linkname=target, mode=0o777)


def hard(name: str, target: str) -> Entry:
    return Entry(name, tarfile.LNKTYPE, linkname=target)


def dev(name: str, kind: str = "c", major: int = 1, minor: int = 3) -> Entry:
    return Entry(name, tarfile.CHRTYPE if kind == "c" else tarfile.BLKTYPE, devmajor=major, devminor=minor)


def fifo(name: str) -> Entry:
    return Entry(name, tarfile.FIFOTYPE)


def manifest_entry(**overrides: Any) -> Entry:
    m = make_manifest(name="example.com/hostile")
    m.update(overrides)
    return reg("manifest", json.dumps(m))


def tar_bytes(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            ti = e.tarinfo()
            tf.addfile(ti, io.BytesIO(e.data) if ti.size else None)
    return buf.getvalue()


def compress(raw: bytes, compression: str) -> bytes:
    if compression == "gz":
        import gzip

        return gzip.compress(raw, 6)
    if compression == "xz":
        import lzma

        return lzma.compress(raw)
    if compression == "zst":
        import zstandard

        return zstandard.ZstdCompressor().compress(raw)
    assert not compression, compression
    return raw


def build(dest: Path, entries: list[Entry], *, with_manifest: bool = True, compression: str = "") -> Path:
    """Write ``entries`` (after a valid manifest and ``rootfs/`` if ``with_manifest``) as an ACI."""
    head = [manifest_entry(), dir_("rootfs")] if with_manifest else []
    dest.write_bytes(compress(tar_bytes(head + entries), compression))
    return dest


def outside_cases(outside: Path) -> dict[str, tuple[list[Entry], str]]:
    """Cases that try to write into ``outside`` (an empty directory the test then checks)."""
    o = str(outside)
    return {
        "symlink-then-file": ([sym("rootfs/evil", o), reg("rootfs/evil/pwned", "owned")],
                              'entry "rootfs/evil/pwned" is written through symlink "rootfs/evil"'),
        "symlink-relative-escape": ([sym("rootfs/up", "../../../../../../../../" + o.lstrip("/")),
                                     reg("rootfs/up/pwned")],
                                    'entry "rootfs/up/pwned" is written through symlink "rootfs/up"'),
        "symlink-then-dir": ([sym("rootfs/evil", o), dir_("rootfs/evil/sub")],
                             'entry "rootfs/evil/sub" is written through symlink "rootfs/evil"'),
        "symlink-then-symlink-under": ([sym("rootfs/evil", o), sym("rootfs/evil/l", "/etc/passwd")],
                                       'entry "rootfs/evil/l" is written through symlink "rootfs/evil"'),
        "symlink-then-hardlink-under": ([reg("rootfs/f"), sym("rootfs/evil", o), hard("rootfs/evil/h", "rootfs/f")],
                                        'entry "rootfs/evil/h" is written through symlink "rootfs/evil"'),
        "absolute-path": ([reg(o + "/pwned")], f'entry "{o}/pwned" has an absolute path'),
        "hardlink-absolute": ([hard("rootfs/h", o + "/target")],
                              f'entry "rootfs/h" is a hardlink to "{o}/target", outside the image'),
    }


#: name -> (entries after a valid manifest and rootfs/, text the error must contain)
CASES: dict[str, tuple[list[Entry], str]] = {
    "dotdot": ([reg("rootfs/../etc/passwd", "root::0:0::/:/bin/sh\n")],
               'entry "rootfs/../etc/passwd" escapes the root'),
    "dotdot-deep": ([reg("rootfs/a/../../../../tmp/x")], 'entry "rootfs/a/../../../../tmp/x" escapes the root'),
    "dotdot-top": ([reg("../x")], 'entry "../x" escapes the root'),
    "hardlink-dotdot": ([hard("rootfs/h", "rootfs/../../etc/shadow")],
                        'entry "rootfs/h" is a hardlink to "rootfs/../../etc/shadow", outside the image'),
    "hardlink-missing": ([hard("rootfs/h", "rootfs/nowhere")],
                         'entry "rootfs/h" is a hardlink to "rootfs/nowhere", which is not in the archive before it'),
    "hardlink-to-manifest": ([hard("rootfs/m", "manifest")],
                             'entry "rootfs/m" is a hardlink to "manifest", outside the root filesystem'),
    "hardlink-to-dir": ([dir_("rootfs/d"), hard("rootfs/h", "rootfs/d")],
                        'entry "rootfs/h" is a hardlink to directory "rootfs/d"'),
    "char-device": ([dir_("rootfs/dev"), dev("rootfs/dev/mem", "c", 1, 1)],
                    'entry "rootfs/dev/mem" is a character device'),
    "block-device": ([dev("rootfs/sda", "b", 8, 0)], 'entry "rootfs/sda" is a block device'),
    "dir-replaced-by-symlink": ([dir_("rootfs/etc"), sym("rootfs/etc", "/etc")],
                                'entry "rootfs/etc" replaces a directory with a symlink'),
    "file-replaced-by-dir": ([reg("rootfs/x"), dir_("rootfs/x")],
                             'entry "rootfs/x" replaces a regular file with a directory'),
    "symlink-replaced-by-dir": ([sym("rootfs/x", "/"), dir_("rootfs/x")],
                                'entry "rootfs/x" replaces a symlink with a directory'),
    "file-replaced-by-symlink": ([reg("rootfs/x"), sym("rootfs/x", "/etc/shadow")],
                                 'entry "rootfs/x" replaces a regular file with a symlink'),
    "entry-under-file": ([reg("rootfs/f"), reg("rootfs/f/x")],
                         'entry "rootfs/f/x" is under "rootfs/f", which is a regular file'),
    "rootfs-is-symlink": ([sym("rootfs", "/")], 'entry "rootfs" is not a directory'),
    "huge-pax-header": ([reg("rootfs/x", pax={"comment": "x" * (2 << 20)})], "metadata header"),
}


def store_snapshot(root: Path) -> list[tuple[str, str, int]]:
    """Every path under a store root with its type and size (files), to compare before and after."""
    out: list[tuple[str, str, int]] = []
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if rel.startswith("index.db-"):  # SQLite's WAL files come and go with connections
            continue
        if p.is_symlink():
            out.append((rel, "l", 0))
        elif p.is_dir():
            out.append((rel, "d", 0))
        else:
            out.append((rel, "f", p.stat().st_size))
    return out
