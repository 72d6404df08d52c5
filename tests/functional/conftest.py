"""Shared fixtures of the functional tests: real pods, as root, in a data directory per test.

``rkt(*args, input=..., timeout=...)`` runs the installed ``rkt`` console script (the one
beside ``sys.executable``) with ``--dir=<tmp>`` and returns its exit code and output;
``rkt.popen(...)`` starts one in the background (killed at teardown). The test images are
unsigned, so ``--insecure-options=image`` is added to every command (``rkt.insecure_image =
False`` for tests of signature checks) and rkt's warning about it is dropped from the
result. ``image(...)``
builds a busybox ACI (see :mod:`tests.support.aci`). After each test every pod left is
garbage-collected through ``rkt gc``, and the test fails if a mount is still left under
its data directory or a pod directory survived.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.aci import build_aci

RKT = Path(sys.executable).parent / "rkt"
#: What rkt says when ``--insecure-options=image`` skips a signature check; :class:`Rkt` adds that
#: option for the (unsigned) test images and drops this line from what the test sees.
SKIPPED_WARNING = "warning: image signature verification is disabled (--insecure-options=image)\n"
FLY = "--stage1-name=fly"


@dataclass(frozen=True)
class Result:
    """A finished ``rkt`` command."""

    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


@dataclass
class Rkt:
    """Runs ``rkt --dir=<data> ...`` as a subprocess."""

    data: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    #: Add ``image`` to ``--insecure-options``: the test images are unsigned. Tests of signature
    #: checks set it False (see :func:`insecure_image`).
    insecure_image: bool = True

    def argv(self, args: tuple[str, ...]) -> list[str]:
        return [str(RKT), f"--dir={self.data}", *(insecure_image(args) if self.insecure_image else args)]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 30,
                 env: dict[str, str] | None = None) -> Result:
        p = subprocess.run(self.argv(args), input=input, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL if input is None else None, env=env)
        err = p.stderr.replace(SKIPPED_WARNING, "") if self.insecure_image else p.stderr
        return Result(p.returncode, p.stdout, err)

    def popen(self, *args: str, **kw: Any) -> subprocess.Popen[str]:
        """Start ``rkt`` in the background in its own session (so teardown can kill its whole group)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(self.argv(args), text=True, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def kill_all(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.communicate(timeout=10)

    def pods(self) -> list[Path]:
        """Every pod directory, whatever its state."""
        root = self.data / "pods"
        return sorted(p for d in root.iterdir() for p in d.iterdir()) if root.exists() else []

    def run_ok(self, *args: str, **kw: Any) -> Result:
        r = self(*args, **kw)
        assert r.code == 0, str(r)
        return r


def insecure_image(args: tuple[str, ...]) -> list[str]:
    """``args`` with ``image`` added to ``--insecure-options`` (merged into one given before ``--``)."""
    out = list(args)
    end = out.index("--") if "--" in out else len(out)
    for i, a in enumerate(out[:end]):
        if a.startswith("--insecure-options="):
            values = a.partition("=")[2].split(",")
            out[i] = a if "image" in values or "all" in values else f"{a},image"
            return out
        if a == "--insecure-options" and i + 1 < end:
            out[i + 1] = out[i + 1] if "image" in out[i + 1].split(",") else f"{out[i + 1]},image"
            return out
    return ["--insecure-options=image", *out]


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    prefix = str(path.resolve()).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split(" ")[4].replace("\\040", " ") for line in f]
    return [p for p in points if (p + "/").startswith(prefix)]


def wait_for(pred: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``pred`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="session", autouse=True)
def as_root() -> None:
    """Functional tests run real pods: they need root."""
    if os.geteuid() != 0:
        pytest.skip("functional pod tests need root")
    if not RKT.exists():
        pytest.fail(f"the rkt console script is not installed beside {sys.executable}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def rkt(data_dir: Path) -> Iterator[Rkt]:
    """The ``rkt`` command on this test's data directory; cleans up after the test (see module doc)."""
    r = Rkt(data_dir)
    yield r
    r.kill_all()
    gc = r("gc", "--grace-period=0s", "--expire-prepared=0s")
    left = mounts_under(data_dir)
    pods = r.pods()
    if left:
        from rkt_sdk.linux.mount import unmount_tree

        unmount_tree(data_dir)
    assert not left, f"mounts left under the data dir after gc: {left}\n{gc}"
    assert not pods, f"pods left after gc: {pods}\n{gc}"


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("images")


_built: dict[str, Path] = {}


@pytest.fixture
def image(images: Path) -> Any:
    """``image(**build_aci kwargs) -> path``: build a busybox ACI once per distinct set of arguments."""

    def make(**kw: Any) -> str:
        key = repr(sorted(kw.items()))
        path = _built.get(key)
        if path is None:
            path = build_aci(images / f"image-{len(_built)}.aci", **kw)
            _built[key] = path
        return str(path)

    return make


@pytest.fixture
def busybox(image: Any) -> str:
    """The plain busybox image (exec /bin/sh, user and group 0, env FOO=image)."""
    return str(image(env={"FOO": "image"}))


@pytest.fixture
def sandbox(rkt: Rkt, tmp_path: Path) -> Iterator[Any]:
    """A running coreos ``rkt app sandbox`` on the host network (a :class:`~tests.functional.test_app_sandbox.Sandbox`),
    force-stopped afterwards if a test left it running."""
    from tests.functional.test_app_sandbox import start_sandbox

    sb = start_sandbox(rkt, tmp_path, "--net=host")
    yield sb
    if sb.proc.poll() is None:
        rkt("stop", "--force", sb.uuid)
        sb.proc.communicate(timeout=20)
