"""What a VM flavor records about a pod's VM (``stage1-data/vm.json``), and its cleanup.

The record lets ``status``, ``stop`` and ``gc`` find the VM (its name, QEMU pid, accelerator)
from another process and after the pod process is gone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rkt_sdk.poddir import write_atomic

RECORD = "vm.json"
_OWNED = ("xchg", "volumes", "supervisor.sock", "qemu.log", "domain.xml")


def _data(pod_path: Path) -> Path:
    return Path(pod_path) / "stage1-data"


def write_record(pod_path: Path, record: dict[str, Any]) -> None:
    """Write the VM record of the pod."""
    d = _data(pod_path)
    d.mkdir(exist_ok=True)
    write_atomic(d / RECORD, json.dumps(record, indent=1) + "\n")


def read_record(pod_path: Path) -> dict[str, Any]:
    """The VM record, or ``{}`` if the pod never got a VM."""
    try:
        rec = json.loads((_data(pod_path) / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return rec if isinstance(rec, dict) else {}


def status_extras(pod_path: Path) -> dict[str, Any]:
    """``rkt status`` lines: the VM's name, accelerator, machine, size, and whether its apps run."""
    from rkt_sdk.vm.client import guest_status

    rec = read_record(pod_path)
    out: dict[str, Any] = {k: rec[k] for k in ("vm", "accel", "machine", "memoryMiB", "vcpus") if k in rec}
    if rec:
        live = guest_status(pod_path)
        out["guest"] = "running" if live.get("ready") else ("booting" if live else "off")
    return out


def cleanup_stage1_data(pod_path: Path) -> None:
    """Remove the flavor's files of a pod (exchange share, empty volumes, sockets, logs). Idempotent."""
    d = _data(pod_path)
    for name in _OWNED:
        p = d / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                pass
