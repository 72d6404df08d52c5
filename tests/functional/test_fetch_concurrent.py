"""Several ``rkt fetch`` processes on one store at once, and a fetch killed half-way."""

from __future__ import annotations

import io
import json
import os
import signal
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import SKIPPED_WARNING, wait_for
from tests.support.aci import manifest


def _big_image(dest: Path, megabytes: int) -> Path:
    """An uncompressed ACI of about ``megabytes`` MiB of incompressible data."""
    block = os.urandom(1 << 20)
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tf:
        m = json.dumps(manifest(name="example.com/big")).encode()
        ti = tarfile.TarInfo("manifest")
        ti.size = len(m)
        tf.addfile(ti, io.BytesIO(m))
        for i in range(megabytes):
            ti = tarfile.TarInfo(f"rootfs/data/{i:04d}")
            ti.size = len(block)
            tf.addfile(ti, io.BytesIO(block[i:] + block[:i]))
    return dest


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _big_image(tmp_path_factory.mktemp("big") / "big.aci", 200)


def _ids(data_dir: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(data_dir / "cas/index.db") as db:
        return [r[0] for r in db.execute("SELECT id FROM images")]


def test_concurrent_fetch_of_one_image(rkt: Any, data_dir: Path, tmp_path: Path) -> None:
    img = _big_image(tmp_path / "mid.aci", 40)
    procs = [rkt.popen("fetch", "--full", str(img)) for _ in range(4)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 4, results
    ids = {out for _, out, _ in results}
    assert len(ids) == 1
    image_id = ids.pop().strip()
    assert [err.replace(SKIPPED_WARNING, "") for _, _, err in results] == [""] * 4
    assert os.listdir(data_dir / "cas/blobs") == [image_id]
    assert os.listdir(data_dir / "cas/trees") == [f"deps-{image_id}"]
    assert _ids(data_dir) == [image_id]
    assert os.listdir(data_dir / "cas/tmp") == []


def test_killed_fetch_leaves_nothing_visible(rkt: Any, data_dir: Path, big: Path) -> None:
    p = rkt.popen("fetch", str(big))
    tmp = data_dir / "cas/tmp"

    def started() -> bool:
        return any((d / "tree/rootfs/data").is_dir() and len(os.listdir(d / "tree/rootfs/data")) > 5
                   for d in tmp.glob("import-*")) if tmp.is_dir() else False

    wait_for(started, timeout=60, what="the import to be half-way")
    os.killpg(p.pid, signal.SIGKILL)
    assert p.wait(timeout=10) == -signal.SIGKILL
    assert os.listdir(data_dir / "cas/blobs") == []
    assert os.listdir(data_dir / "cas/trees") == []
    assert rkt.run_ok("image", "list", "--no-legend").out == ""
    assert os.listdir(tmp) != []  # the dead import's work, invisible to readers
    r = rkt.run_ok("fetch", str(big))
    assert r.out.startswith("sha512-")
    assert os.listdir(tmp) == []
    assert len(os.listdir(data_dir / "cas/blobs")) == 1
    assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 1
