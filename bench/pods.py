"""Many exited pods, quickly: one pod made through the CLI, cloned under new UUIDs.

The template pod is run with the fly flavor (or prepared and run by whichever flavor works);
its mounts are removed before it is copied, so each clone is a plain directory in
``pods/run`` whose lock nobody holds: rkt sees it as an exited pod. When no pod can be run
through the CLI yet, a template is written by hand in the same layout, and the result says so.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid as uuidlib
from pathlib import Path

from bench.timing import BenchError
from bench.workspace import Workspace, remove_tree, unmount_below


class PodFactory:
    """Makes data directories holding ``n`` exited pods cloned from one template pod."""

    def __init__(self, ws: Workspace, flavor: str = "fly") -> None:
        self.ws = ws
        self.flavor = flavor
        self.note = ""
        self._template: Path | None = None

    def template(self) -> Path:
        """The exited pod every clone copies (made on first use)."""
        if self._template is None:
            self._template = self._make_template()
        return self._template

    def _make_template(self) -> Path:
        data = self.ws.data_dir("template")
        ref = self.ws.image_ref(data, "true", ("/bin/true",))
        try:
            self.ws.call(self.ws.rkt(data, "run", f"--stage1-name={self.flavor}", ref))
            pods = sorted((data / "pods" / "run").iterdir(), key=lambda p: p.stat().st_mtime)
            if not pods:
                raise BenchError("rkt run left no pod in pods/run")
            tpl = pods[-1]
            self.note = f"pods cloned from one exited {self.flavor} pod"
        except (BenchError, OSError) as e:
            tpl = _synthetic_pod(data / "pods" / "run", self.ws.image("true", ("/bin/true",)))
            self.note = f"pods cloned from a hand-written exited pod (rkt run failed: {e})"
        unmount_below(tpl)
        return tpl

    def populate(self, data: Path, n: int) -> list[str]:
        """Add ``n`` exited pods to ``data``'s ``pods/run``; their UUIDs."""
        tpl = self.template()
        run = data / "pods" / "run"
        run.mkdir(parents=True, exist_ok=True)
        for st in ("embryo", "prepare", "prepared", "exited-garbage", "garbage"):
            (data / "pods" / st).mkdir(exist_ok=True)
        made = []
        for _ in range(n):
            u = str(uuidlib.uuid4())
            shutil.copytree(tpl, run / u, symlinks=True)
            made.append(u)
        return made

    def fresh(self, name: str, n: int) -> tuple[Path, list[str]]:
        """A new data directory ``name`` (on the workspace's tmpfs, emptied first) holding ``n`` exited pods."""
        data = self.ws.data_dir(name, in_memory=True)
        if data.exists():
            remove_tree(data)
        return data, self.populate(data, n)


def _synthetic_pod(run_dir: Path, aci: Path) -> Path:
    """An exited single-app pod written by hand in the pod-directory layout."""
    import tarfile

    with tarfile.open(aci) as tf:
        member = tf.extractfile("manifest")
        im = json.loads(member.read()) if member is not None else {}
    image_id = "sha512-" + "0" * 64
    pod_manifest = {"acKind": "PodManifest", "acVersion": "0.8.11",
                    "apps": [{"name": "bench-true", "image": {"name": im.get("name", ""), "id": image_id},
                              "app": im.get("app", {})}],
                    "volumes": [], "isolators": [], "annotations": [], "ports": []}
    path = run_dir / str(uuidlib.uuid4())
    path.mkdir(parents=True, mode=0o711)
    now = time.time_ns()
    (path / "pod").write_text(json.dumps(pod_manifest))
    (path / "stage1").write_text(json.dumps({"name": "fly", "version": "0.1.0", "distribution": "rkt-stage1-fly",
                                             "interfaceVersion": 1, "overlay": True}) + "\n")
    (path / "created").write_text(f"{now}\n")
    (path / "started").write_text(f"{now}\n")
    (path / "pid").write_text("1\n")
    info = path / "appsinfo" / "bench-true"
    info.mkdir(parents=True)
    (info / "manifest").write_text(json.dumps(im))
    (info / "treeStoreID").write_text("deps-" + image_id + "\n")
    for d in ("apps/bench-true/rootfs", "overlay/bench-true/upper", "overlay/bench-true/work"):
        (path / d).mkdir(parents=True)
    started = path / "rkt" / "started"
    started.mkdir(parents=True)
    (started / "bench-true").write_text(f"{now}\n")
    os.utime(path, ns=(now, now))
    return path
