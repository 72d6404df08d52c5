"""Timing commands: interleaved rounds of subprocess runs, medians, and what went wrong.

Subjects compared with each other run in the same rounds (A B C, B C A, ...) so that load
from elsewhere on the machine falls on all of them alike; the ratio between medians is what
the benchmarks report.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(Exception):
    """A subject or a fixture could not be run; the message says which and why (one line)."""


@dataclass
class Result:
    """One measured quantity: samples in ``unit``, and the key of the peer it is compared with."""

    key: str
    suite: str
    label: str
    unit: str = "ms"
    samples: list[float] = field(default_factory=list)
    peer: str | None = None
    note: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"key": self.key, "suite": self.suite, "label": self.label, "unit": self.unit,
                                "samples": [round(s, 3) for s in self.samples]}
        if self.samples:
            d.update(median=round(self.median, 3), min=round(min(self.samples), 3), max=round(max(self.samples), 3))
        for k in ("peer", "note", "error"):
            v = getattr(self, k)
            if v:
                d[k] = v
        return d


def last_line(text: str | bytes | None) -> str:
    """The last non-empty line of a command's output (where errors usually are)."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


@dataclass
class Subject:
    """A command to time: ``setup`` runs untimed before each run; ``check`` validates afterwards.

    ``then``: a second command run as soon as the first has succeeded, timed with it (what
    takes two commands is timed without a shell between them).
    """

    key: str
    label: str
    argv: Sequence[str]
    setup: Callable[[], None] | None = None
    check: Callable[[], None] | None = None
    env: dict[str, str] | None = None
    cwd: Path | None = None
    timeout: float = 300.0
    peer: str | None = None
    note: str = ""
    warmup: bool = True
    then: Sequence[str] | None = None


def run_once(s: Subject) -> float:
    """Run the subject once and return its wall time in seconds; raise BenchError if it fails."""
    if s.setup is not None:
        s.setup()
    t0 = time.perf_counter()
    for argv in (s.argv, s.then) if s.then else (s.argv,):
        try:
            p = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=s.env, cwd=s.cwd, timeout=s.timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{s.label}: timed out after {s.timeout:.0f} s") from None
        except OSError as e:
            raise BenchError(f"{s.label}: cannot run {argv[0]}: {e.strerror}") from None
        if p.returncode != 0:
            raise BenchError(f"{s.label}: exit status {p.returncode}: {last_line(p.stderr) or 'no message'}")
    dt = time.perf_counter() - t0
    if s.check is not None:
        s.check()
    return dt


def compare(suite: str, subjects: Sequence[Subject], rounds: int) -> list[Result]:
    """Time every subject ``rounds`` times, interleaved, after one untimed warm-up run each.

    A subject that fails is dropped from the following rounds and its result carries the error.
    """
    results = {s.key: Result(s.key, suite, s.label, "ms", [], s.peer, s.note) for s in subjects}
    live = []
    for s in subjects:
        try:
            if s.warmup:
                run_once(s)
            live.append(s)
        except BenchError as e:
            results[s.key].error = str(e)
    for r in range(rounds):
        order = live[r % len(live):] + live[:r % len(live)] if live else []
        for s in order:
            if results[s.key].error:
                continue
            try:
                results[s.key].samples.append(run_once(s) * 1000.0)
            except BenchError as e:
                results[s.key].error = str(e)
    return [results[s.key] for s in subjects]


def failed(key: str, suite: str, label: str, why: str, peer: str | None = None) -> Result:
    """A result that could not be measured at all."""
    return Result(key, suite, label, "ms", [], peer, "", why)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for measured commands: ours, without what would make Python slower or different."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RKT_"))}
    env.update(extra or {})
    return env


def time_to_marker(label: str, argv: Sequence[str], marker: bytes, env: dict[str, str] | None = None,
                   timeout: float = 180.0) -> tuple[float, float]:
    """Start ``argv``; seconds until ``marker`` appears on its stdout, and until it exits.

    :raises BenchError: the marker never came, or the command failed or timed out.
    """
    import selectors
    import tempfile

    with tempfile.TemporaryFile() as errf:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, env=env)
        except OSError as e:
            raise BenchError(f"{label}: cannot run {argv[0]}: {e.strerror}") from None
        assert p.stdout is not None
        seen = b""
        at: float | None = None
        deadline = t0 + timeout
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(p.stdout, selectors.EVENT_READ)
                while True:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise BenchError(f"{label}: no {marker.decode()!r} within {timeout:.0f} s")
                    if not sel.select(left):
                        continue
                    chunk = os.read(p.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    if at is None:
                        seen = (seen + chunk)[-4096:]
                        if marker in seen:
                            at = time.perf_counter() - t0
            code = p.wait(max(1.0, deadline - time.perf_counter()))
            total = time.perf_counter() - t0
        except subprocess.TimeoutExpired:
            raise BenchError(f"{label}: did not exit within {timeout:.0f} s") from None
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        if at is None or code != 0:
            errf.seek(0)
            why = last_line(errf.read()) or (f"exit status {code}" if code else "no marker in its output")
            raise BenchError(f"{label}: {why}")
        return at, total
