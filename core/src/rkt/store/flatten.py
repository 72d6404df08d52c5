"""A flattened copy of a multi-layer image's root filesystem (``--no-overlay``, ``image extract``).

The layers' trees are mounted as one read-only overlay (the kernel applies the whiteouts and
opaque directories exactly as a pod's overlay would), and the merged view is copied with
``cp -a`` (owners, modes, times, links and extended attributes kept), then unmounted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rkt.store.errors import StoreError


def flatten_layers(layers: tuple[Path, ...], dest: Path, scratch: Path) -> None:
    """Copy the merged view of ``layers`` (topmost first) into ``dest`` (which must not exist).

    ``scratch`` is a directory on any local filesystem for the mount point.
    """
    from rkt_sdk.linux.mount import MountError, mount, umount

    work = Path(tempfile.mkdtemp(prefix="flatten-", dir=scratch))
    try:
        empty, merged = work / "empty", work / "merged"
        empty.mkdir()
        merged.mkdir()
        # an overlay without an upper layer needs two lowers; the empty one changes nothing
        lowers = ":".join(str(p) for p in (*layers, empty))
        try:
            mount("overlay", merged, "overlay", 1, f"lowerdir={lowers}")  # MS_RDONLY
        except MountError as e:
            raise StoreError(f"cannot merge the image's layers: {e}") from None
        try:
            proc = subprocess.run(["cp", "-a", "--", f"{merged}/.", str(dest)], capture_output=True, text=True,
                                  check=False)
        finally:
            umount(merged)
        if proc.returncode != 0:
            shutil.rmtree(dest, ignore_errors=True)
            line = (proc.stderr.strip().splitlines() or ["cp failed"])[-1]
            raise StoreError(f"cannot copy the image's root filesystem to {dest}: {line}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
