"""The bench's scratch space: a temporary root holding rkt data directories, images and bundles.

Everything a benchmark makes lives under one temporary directory; :meth:`Workspace.close`
garbage-collects the pods of every data directory it handed out, unmounts whatever is still
mounted below the root (the fly flavor leaves its mounts until gc) and removes the tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.timing import BenchError, child_env, last_line

#: rkt's console script next to the interpreter running the bench (the virtualenv's).
RKT = Path(sys.executable).parent / "rkt"



def _interpreter(script: Path) -> str:
    """The interpreter named on ``script``'s ``#!`` line (the one ``rkt`` runs on)."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace")
    except OSError:
        return sys.executable
    return first[2:].strip().split()[0] if first.startswith("#!") and first[2:].strip() else sys.executable


#: the interpreter the rkt command runs on: its start-up is the floor rkt is measured against.
PYTHON = _interpreter(RKT)

IMAGE_ID = re.compile(r"sha512-[0-9a-f]{32,128}")


class Workspace:
    """A temporary root, the rkt command line for a data directory, and the test images."""

    def __init__(self, quick: bool = False, keep: bool = False) -> None:
        self.quick = quick
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="rkt-bench-"))
        os.chmod(self.root, 0o755)
        self.env = child_env()
        self.config = self.root / "config"
        for d in ("system", "local"):
            (self.config / d).mkdir(parents=True)
        self._data_dirs: list[Path] = []
        self._images: dict[str, Path] = {}
        self._refs: dict[tuple[Path, str], str] = {}
        self.notes: list[str] = []

    # rkt command lines
    def data_dir(self, name: str, *, in_memory: bool = False) -> Path:
        """A fresh (not yet existing) data directory ``name`` under the root, cleaned at the end.

        ``in_memory`` puts it on a tmpfs of the workspace: for the benchmarks that make and delete
        thousands of small files, so that they measure rkt rather than the disk's unlink cost.
        """
        d = (self.memory() if in_memory else self.root / "data") / name
        if not in_memory and d not in self._data_dirs:  # cloned pods hold no mounts: dropping the tmpfs will do
            self._data_dirs.append(d)
        return d

    def memory(self) -> Path:
        """A tmpfs mounted in the workspace (on first use); unmounted by :meth:`close`."""
        m = self.root / "tmpfs"
        if not m.is_dir():
            m.mkdir()
            self.call(["mount", "-t", "tmpfs", "-o", "mode=0755,size=4g", "rkt-bench", str(m)])
        return m

    def rkt(self, data: Path, *args: str) -> list[str]:
        """The argv of ``rkt`` with a private data dir and empty config dirs, then ``args``."""
        return [str(RKT), f"--dir={data}", f"--system-config={self.config / 'system'}",
                f"--local-config={self.config / 'local'}", "--insecure-options=image", *args]

    def call(self, argv: list[str], timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
        """Run a fixture command (untimed); raise BenchError with its last error line if it fails."""
        shown = " ".join([Path(argv[0]).name, *(a for a in argv[1:] if not a.startswith(
            ("--dir=", "--system-config=", "--local-config=", "--insecure-options=")))])[:100]
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=self.env,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{shown}: timed out after {timeout:.0f} s") from None
        if p.returncode != 0:
            raise BenchError(f"{shown}: exit status {p.returncode}: "
                             f"{last_line(p.stderr) or last_line(p.stdout) or 'no message'}")
        return p

    # images
    def image(self, name: str, exec_: tuple[str, ...]) -> Path:
        """A busybox ACI named ``bench/<name>`` whose app runs ``exec_`` (built once)."""
        if name not in self._images:
            from tests.support.aci import build_aci

            path = self.root / "images" / f"{name}.aci"
            path.parent.mkdir(exist_ok=True)
            build_aci(path, f"example.com/bench-{name}", "1.0", exec_)
            self._images[name] = path
        return self._images[name]

    def image_ref(self, data: Path, name: str, exec_: tuple[str, ...]) -> str:
        """How to name image ``name`` in ``rkt run`` once it is in the store of ``data``.

        Fetches it with ``rkt fetch`` and returns the image id; where this rkt has no working
        ``fetch`` yet, imports it with ``rkt prepare`` and returns its ``name:version``; failing
        that, returns the ACI's path (each run then imports it again). Fallbacks are noted.
        """
        key = (data, name)
        if key not in self._refs:
            aci = self.image(name, exec_)
            try:
                out = self.call(self.rkt(data, "fetch", str(aci))).stdout
                m = IMAGE_ID.findall(out)
                if not m:
                    raise BenchError(f"rkt fetch printed no image id: {last_line(out)!r}")
                self._refs[key] = m[-1]
            except BenchError as e:
                try:
                    self.call(self.rkt(data, "prepare", "--quiet", str(aci)))
                    self._refs[key] = f"example.com/bench-{name}:1.0"
                    self._note(f"images put in the store by rkt prepare and run by name ({e})")
                except BenchError as e2:
                    self._refs[key] = str(aci)
                    self._note(f"images given by path, imported by every run ({e}; {e2})")
        return self._refs[key]

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def rootfs(self) -> Path:
        """The busybox rootfs of the test images, extracted once (for the runc and chroot peers)."""
        root = self.root / "rootfs"
        if not root.exists():
            aci = self.image("true", ("/bin/true",))
            tmp = self.root / ".rootfs-extract"
            tmp.mkdir()
            self.call(["tar", "-xf", str(aci), "-C", str(tmp)])
            os.rename(tmp / "rootfs", root)
            shutil.rmtree(tmp)
        return root

    def runc_bundle(self, args: list[str]) -> Path:
        """An OCI bundle (made by ``runc spec``) over :meth:`rootfs`, running ``args``, no terminal."""
        name = "-".join(Path(a).name for a in args)[:40] or "bundle"
        bundle = self.root / "oci" / name
        if not (bundle / "config.json").exists():
            bundle.mkdir(parents=True)
            self.call(["runc", "spec", "--bundle", str(bundle)])
            spec = json.loads((bundle / "config.json").read_text())
            spec["process"]["terminal"] = False
            spec["process"]["args"] = list(args)
            spec["root"] = {"path": str(self.rootfs()), "readonly": True}
            (bundle / "config.json").write_text(json.dumps(spec, indent=1))
        return bundle

    def runc(self, bundle: Path, cid: str = "rkt-bench") -> list[str]:
        """``runc run`` of ``bundle`` with its state kept under the root."""
        return ["runc", f"--root={self.root / 'runc'}", "run", f"--bundle={bundle}", f"{cid}-{os.getpid()}"]

    # cleaning up
    def gc(self, data: Path) -> None:
        """Garbage-collect every exited pod of ``data`` now (errors are ignored: this is cleanup)."""
        if (data / "pods").exists():
            subprocess.run(self.rkt(data, "gc", "--grace-period=0s", "--expire-prepared=0s"),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=self.env, timeout=600)

    def unmount_below(self, path: Path) -> None:
        """Lazily unmount everything mounted at or below ``path``, deepest first."""
        unmount_below(path)

    def close(self) -> None:
        """gc every data dir, unmount leftovers, remove the root (unless ``keep``)."""
        for d in self._data_dirs:
            try:
                self.gc(d)
            except (OSError, subprocess.TimeoutExpired):
                pass
        unmount_below(self.root)
        if self.keep:
            sys.stderr.write(f"bench: kept {self.root}\n")
            return
        try:
            remove_tree(self.root)
        except BenchError as e:
            sys.stderr.write(f"bench: {e}\n")


def mounts_below(path: Path) -> list[str]:
    """Mount points at or below ``path`` in this mount namespace, deepest first."""
    prefix = str(path).rstrip("/")
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            if mp == prefix or mp.startswith(prefix + "/"):
                found.append(mp)
    return sorted(set(found), key=lambda m: m.count("/"), reverse=True)


def remove_tree(path: Path) -> None:
    """Unmount everything below ``path``, then delete it; never deletes through a mount that stayed.

    :raises BenchError: something is still mounted there (the tree is left alone).
    """
    unmount_below(path)
    left = mounts_below(path)
    if left:
        raise BenchError(f"{left[0]} is still mounted; not removing {path}")
    shutil.rmtree(path, ignore_errors=True)


def unmount_below(path: Path) -> None:
    """Detach every mount at or below ``path`` (several passes: stacked mounts)."""
    for _ in range(5):
        mps = mounts_below(path)
        if not mps:
            return
        for mp in mps:
            subprocess.run(["umount", "-l", mp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
