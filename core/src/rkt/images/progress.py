"""What a pull shows while blobs are copied: a live display on a terminal, plain lines otherwise.

On a terminal (stderr), a ``rich`` progress display with one bar per layer (size, bytes done,
speed) appears once the pull has run for :data:`DELAY` seconds, so quick pulls print nothing;
when stderr is not a terminal, one line when a layer starts and one when it is done. ``rich``
is imported only here, only when a pull copies something on a terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

#: Seconds a pull runs before the live display appears (``RKT_PROGRESS_DELAY`` overrides it).
DELAY = 1.0


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("RKT_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class Progress:
    """Reports blob copies of one pull; thread-safe; use as a context manager."""

    def __init__(self, display: str, *, quiet: bool = False) -> None:
        self.display = display
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._live: Any = None
        self._tasks: dict[str, tuple[Any, int, float]] = {}
        self._pending: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Progress:
        if self.tty and not self.quiet:
            self._timer = threading.Timer(_delay(), self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as Live

        with self._lock:
            live = Live(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            live.start()
            self._live = live
            for digest, size in self._pending.items():
                task = live.add_task(_short(digest), total=size, completed=self._done.get(digest, 0))
                self._tasks[digest] = (task, size, time.monotonic())

    def started(self, digest: str, size: int) -> None:
        """A blob of ``size`` bytes starts to be copied."""
        with self._lock:
            self._pending[digest] = size
            if self._live is not None:
                self._tasks[digest] = (self._live.add_task(_short(digest), total=size), size, time.monotonic())
            elif not self.tty and not self.quiet:
                sys.stderr.write(f"Downloading {_short(digest)} ({human(size)}) of {self.display}\n")
                sys.stderr.flush()

    def advance(self, digest: str, n: int) -> None:
        """``n`` more bytes of the blob were copied."""
        with self._lock:
            self._done[digest] = self._done.get(digest, 0) + n
            if self._live is not None and digest in self._tasks:
                self._live.update(self._tasks[digest][0], advance=n)

    def finished(self, digest: str) -> None:
        """The blob is stored."""
        with self._lock:
            size = self._pending.pop(digest, 0)
            if self._live is None and not self.tty and not self.quiet:
                took = max(time.monotonic() - self._start, 1e-3)
                speed = human(self._done.get(digest, 0) / took)
                sys.stderr.write(f"Downloaded {_short(digest)} ({human(size)}, {speed}/s)\n")
                sys.stderr.flush()


def _short(digest: str) -> str:
    return digest.partition(":")[2][:12] or digest
