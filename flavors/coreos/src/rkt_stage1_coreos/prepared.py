"""An app's child set up ahead of its start, and what a child reports before its exec.

Once ``rkt app add`` has exited (while a following ``rkt app start`` starts up), the
supervisor of a sandbox forks the new app's child and lets it do all of its start (cgroup,
mount namespace, root, working directory) but drop privileges and exec; ``rkt app start``
then only lets it go on. A start whose app changed since, or whose
prepared child died, starts the app anew, so the outcome is that of a start from scratch.
"""

from __future__ import annotations

import os
import signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    import selectors

    from rkt_sdk.appc import RuntimeApp
    from rkt_stage1_coreos.iopump import AppIO
    from rkt_stage1_coreos.plan import AppPlan


class Prepared:
    """An added app's child, set up ahead of its start (mounts, root, cgroup): it waits for one byte to exec."""

    def __init__(self, plan: AppPlan, pid: int, io: AppIO, result: int, go: int, runtime: RuntimeApp,
                 stamp: tuple[int, int, int] | None) -> None:
        self.plan = plan
        self.runtime = runtime  # the app's manifest entry the plan was made from
        self.stamp = stamp  # which pod manifest that was (see manifest_stamp)
        self.pid = pid
        self.io = io
        self.result = result  # read end of what the child says (its pid, or why it failed), closed at its exec
        self.go = go  # write end of what lets it exec
        self.dead = False

    def unchanged(self, manifest: str | os.PathLike[str]) -> bool:
        """Whether the child is alive and the pod manifest at ``manifest`` is the one its plan was made from."""
        return not self.dead and self.stamp is not None and self.stamp == manifest_stamp(manifest)

    def cancel(self, sel: selectors.BaseSelector) -> None:
        """Kill the child (unless it is gone) and release what it holds."""
        if not self.dead:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for fd in (self.go, self.result):
            os.close(fd)
        self.io.close(sel)


def read_result(r: int) -> tuple[int, str]:
    """Read a child's result pipe to its end (closed at the app's exec): its host pid, and why it failed ("")."""
    chunks = []
    while b := os.read(r, 4096):
        chunks.append(b)
    os.close(r)
    head, _, err = b"".join(chunks).partition(b"\n")
    host_pid = int(head[1:]) if head.startswith(b"P") and head[1:].isdigit() else 0
    return host_pid, err.decode(errors="replace")


def manifest_stamp(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """Which pod manifest is at ``path`` (it is replaced, never rewritten in place); None if none is."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
