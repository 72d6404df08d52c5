"""Driving the ``rkt`` command for the conformance tests: one data directory per test.

:class:`RktDriver` runs ``rkt`` as a user would (a subprocess with ``--dir``), starts pods
in the background, waits for them, and inspects what a pod leaves on the host (mounts
under the data directory, pod directories, processes naming the pod).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RktNotFound(RuntimeError):
    """No ``rkt`` command beside the running Python nor on ``PATH``."""


def find_rkt(explicit: str | None = None) -> Path:
    """The ``rkt`` command: ``explicit``, else beside ``sys.executable``, else on ``PATH``."""
    if explicit:
        return Path(explicit)
    beside = Path(sys.executable).parent / "rkt"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("rkt")
    if found:
        return Path(found)
    raise RktNotFound("no rkt command found beside the running Python or on PATH (use --rkt-binary)")


@dataclass(frozen=True)
class Result:
    """A finished ``rkt`` command: exit code and output (``\\r`` removed, as a VM console adds them)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return [ln.strip() for ln in self.stdout.splitlines()]

    def describe(self) -> str:
        return (f"rkt {' '.join(self.args)} exited {self.returncode}\n--- stdout ---\n{self.stdout[-3000:]}"
                f"\n--- stderr ---\n{self.stderr[-3000:]}")


def _clean(raw: bytes) -> str:
    return raw.decode(errors="replace").replace("\r", "")


class RktDriver:
    """``rkt`` bound to one data directory and a per-command timeout."""

    def __init__(self, binary: Path, data_dir: Path, timeout: float, extra_global: Sequence[str] = ()) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.timeout = timeout
        self.extra_global = tuple(extra_global)
        self.started: list[subprocess.Popen[bytes]] = []

    def argv(self, *args: str) -> list[str]:
        return [str(self.binary), f"--dir={self.data_dir}", *self.extra_global, *args]

    def __call__(self, *args: str, input: bytes | None = None, timeout: float | None = None) -> Result:
        """Run ``rkt ARGS`` to completion; stdin is ``input`` or empty."""
        p = subprocess.run(self.argv(*args), input=input or b"", capture_output=True,
                           timeout=timeout or self.timeout, check=False)
        return Result(tuple(args), p.returncode, _clean(p.stdout), _clean(p.stderr))

    def json(self, *args: str) -> Any:
        r = self(*args)
        if r.returncode != 0:
            raise AssertionError(r.describe())
        return json.loads(r.stdout)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start ``rkt ARGS`` in the background (own session, output captured)."""
        p = subprocess.Popen(self.argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        self.started.append(p)
        return p

    def finish(self, p: subprocess.Popen[bytes], timeout: float | None = None) -> Result:
        """Wait for a background ``rkt`` and collect its result."""
        out, err = p.communicate(timeout=timeout or self.timeout)
        return Result(tuple(str(a) for a in p.args[2:]), p.returncode, _clean(out), _clean(err))  # type: ignore[index]

    # --- what a pod leaves behind ---------------------------------------------------------

    def pod_dirs(self) -> list[Path]:
        """Every pod directory in any state."""
        root = self.data_dir / "pods"
        if not root.is_dir():
            return []
        return sorted(p for state in root.iterdir() if state.is_dir() for p in state.iterdir())

    def mounts(self) -> list[str]:
        """Mount points at or under the data directory (from /proc/self/mountinfo)."""
        prefix = os.path.realpath(self.data_dir)
        out = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4].replace("\\040", " ")
                if mp == prefix or mp.startswith(prefix + "/"):
                    out.append(mp)
        return out

    @staticmethod
    def processes_naming(text: str) -> list[int]:
        """PIDs whose command line mentions ``text`` (a pod UUID), except this process."""
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(d))
            except OSError:
                continue
        return found

    def wait_for(self, path: Path, timeout: float | None = None) -> bool:
        """Wait until ``path`` exists; False on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if path.exists():
                return True
            time.sleep(0.1)
        return False

    def cleanup(self) -> list[str]:
        """Stop what the test left running, gc every pod; return what could not be cleaned."""
        problems: list[str] = []
        for p in self.started:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, 9)
                except ProcessLookupError:
                    pass
                try:
                    p.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    problems.append(f"rkt process {p.pid} did not exit")
        for d in self.pod_dirs():
            if d.parent.name == "run":
                self("stop", "--force", d.name, timeout=60)
        for _ in range(2):
            self("gc", "--grace-period=0s", "--expire-prepared=0s", timeout=120)
        problems += [f"mount left at {m}" for m in self.mounts()]
        problems += [f"pod directory left at {d}" for d in self.pod_dirs()]
        return problems
