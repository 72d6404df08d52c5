"""A large ACI for the import benchmarks: the busybox image plus generated files of random data.

Random data does not compress, so neither rkt nor the peer can win by compression; many small
files beside the large ones make per-file costs (metadata, directory entries) show.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

MIB = 1 << 20
BIG_NAME = "example.com/bench-big"
LARGE_FILES = 48          # x 4 MiB
LARGE_SIZE = 4 * MIB
SMALL_FILES = 2000        # x 8 KiB, in 40 directories
SMALL_SIZE = 8 << 10


def build_big_aci(dest: Path, small_aci: Path, exec_: tuple[str, ...] = ("/bin/true",)) -> int:
    """Write the large ACI to ``dest`` (from the entries of ``small_aci``); its rootfs size in bytes."""
    import json

    total = 0
    with tarfile.open(small_aci) as src, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
        for m in src.getmembers():
            f = src.extractfile(m) if m.isfile() else None
            if m.name == "manifest" and f is not None:
                man = json.loads(f.read())
                man["name"] = BIG_NAME
                man.setdefault("app", {})["exec"] = list(exec_)
                data = json.dumps(man).encode()
                m.size = len(data)
                out.addfile(m, io.BytesIO(data))
                continue
            total += m.size
            out.addfile(m, f)
        _dir(out, "rootfs/data")
        for i in range(LARGE_FILES):
            _file(out, f"rootfs/data/blob-{i:03d}", os.urandom(LARGE_SIZE))
            total += LARGE_SIZE
        for d in range(40):
            _dir(out, f"rootfs/data/small-{d:02d}")
        for i in range(SMALL_FILES):
            _file(out, f"rootfs/data/small-{i % 40:02d}/f-{i:05d}", os.urandom(SMALL_SIZE))
            total += SMALL_SIZE
    os.chmod(dest, 0o644)
    return total


def _dir(tf: tarfile.TarFile, name: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.mtime = 1_600_000_000
    tf.addfile(ti)


def _file(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    ti.mtime = 1_600_000_000
    tf.addfile(ti, io.BytesIO(data))
