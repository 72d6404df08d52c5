"""Mutable pods' conventions shared by stage0 and flavors: the sandbox marker, app I/O modes, CRI logs.

- A pod made by ``rkt app sandbox`` carries the pod-manifest annotation
  :data:`MUTABLE_ANNOTATION` = ``"true"`` (rkt's own name), read by :attr:`Pod.mutable`.
- Each app added to it records its stdin/stdout/stderr modes as app annotations
  (:data:`STDIO_ANNOTATIONS`, rkt's names), read by :func:`io_modes`:

  ``null``
      nothing in, output dropped;
  ``log``
      (stdout/stderr) each line goes to the app's log file (:meth:`PodDir.app_log_path`)
      in the CRI format, :class:`CriLog`;
  ``stream``
      a pipe kept by the flavor, reached by ``rkt attach``; output is kept in a bounded
      buffer while nobody is attached;
  ``tty``
      a terminal (pty) kept by the flavor, reached by ``rkt attach``; stdin, stdout and
      stderr are then all the terminal.

The CRI log format (Kubernetes' container log files): one entry per line,
``<RFC3339Nano time> <stdout|stderr> <P|F> <message>``; ``P`` marks a partial line (the app
wrote it without a newline yet, or it was cut at :data:`MAX_LINE` bytes), ``F`` the end of one.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt_sdk.appc import RuntimeApp

#: pod-manifest annotation of a mutable pod (value ``"true"``)
MUTABLE_ANNOTATION = "coreos.com/rkt/stage1/mutable"
#: app annotations holding the app's stdin, stdout and stderr modes
STDIO_ANNOTATIONS = ("coreos.com/rkt/stage2/stdin", "coreos.com/rkt/stage2/stdout",
                     "coreos.com/rkt/stage2/stderr")
#: the modes each stream accepts
STDIN_MODES = ("null", "stream", "tty")
OUTPUT_MODES = ("null", "log", "stream", "tty")
#: modes when an app does not say (rkt's defaults)
DEFAULT_MODES = ("null", "log", "log")
#: longest message of one CRI log entry; longer lines are cut into partial entries
MAX_LINE = 16 * 1024


class IOModeError(ValueError):
    """An app's stdin/stdout/stderr modes do not go together."""


def check_modes(stdin: str, stdout: str, stderr: str) -> tuple[str, str, str]:
    """The three modes if they go together.

    A terminal is one thing: if any stream is ``tty``, stdin and stdout must both be, and
    stderr is the terminal too.

    :raises IOModeError: naming the flag and the value.
    """
    for flag, value, allowed in (("--stdin", stdin, STDIN_MODES), ("--stdout", stdout, OUTPUT_MODES),
                                 ("--stderr", stderr, OUTPUT_MODES)):
        if value not in allowed:
            raise IOModeError(f"{flag}={value}: expected one of {', '.join(allowed)}")
    if "tty" in (stdin, stdout, stderr):
        if stdin != "tty" or stdout != "tty":
            raise IOModeError("--stdin=tty and --stdout=tty go together (a terminal is both)")
        stderr = "tty"
    return stdin, stdout, stderr


def io_modes(app: RuntimeApp) -> tuple[str, str, str]:
    """The app's ``(stdin, stdout, stderr)`` modes from its annotations, rkt's defaults otherwise."""
    ann = {kv.name: kv.value for kv in app.annotations}
    modes = tuple(ann.get(name) or default for name, default in zip(STDIO_ANNOTATIONS, DEFAULT_MODES, strict=True))
    try:
        return check_modes(*modes)
    except IOModeError:
        return DEFAULT_MODES


def rfc3339nano(ns: int) -> str:
    """``ns`` since the epoch as Go's ``time.RFC3339Nano`` writes it in UTC (trailing zeros dropped)."""
    secs, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    digits = f"{frac:09d}".rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def cri_entries(stream: str, data: bytes, now_ns: int | None = None, max_line: int = MAX_LINE) -> bytes:
    """The CRI log entries for ``data`` just read from an app's ``stream`` (``stdout``/``stderr``).

    Each complete line is one ``F`` entry; what follows the last newline (a line not finished
    yet) is a ``P`` entry; a line longer than ``max_line`` is cut into ``P`` entries.
    """
    stamp = rfc3339nano(time.time_ns() if now_ns is None else now_ns).encode()
    head = stamp + b" " + stream.encode() + b" "
    out = []
    lines = data.split(b"\n")
    last = lines.pop()  # b"" when data ends with a newline
    for i, line in enumerate([*lines, last]):
        final = i < len(lines)
        if not final and not line:
            continue
        while len(line) > max_line:
            out.append(head + b"P " + line[:max_line] + b"\n")
            line = line[max_line:]
        if not final and not line:
            continue
        out.append(head + (b"F " if final else b"P ") + line + b"\n")
    return b"".join(out)


class CriLog:
    """An app's log file in the CRI format, appended to; :meth:`reopen` after a rotation."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.fd = -1
        self.reopen()

    def reopen(self) -> None:
        """Open the file again by its name (made if missing, e.g. after a log rotator moved it)."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = fd

    def write(self, stream: str, data: bytes) -> None:
        """Append the entries of ``data`` read from ``stream``."""
        if data and self.fd >= 0:
            entries = cri_entries(stream, data)
            while entries:
                n = os.write(self.fd, entries)
                entries = entries[n:]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
