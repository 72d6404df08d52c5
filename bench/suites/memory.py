"""Peak memory: of ``rkt run`` itself, and of the pod's process (supervisor) while its app runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.context import Context
from bench.flavors import VM_FLAVORS
from bench.timing import BenchError, Result, last_line

KIB = 1024.0
READY = b"RKT-BENCH-READY"


def _max_rss(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS (MiB) of ``argv`` and the descendants it waited for.

    Measured by GNU ``time`` (wait4's rusage, from a small parent) rather than by this process:
    a child forked from the bench starts with the bench's own resident pages, which would count
    as its peak. Without GNU time, ``busybox time`` does it, whose figure is in pages, not KiB.
    """
    import shutil
    import tempfile

    gnu = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r") as out:
        if gnu.exists():
            wrapper, scale = [str(gnu), "-f", "%M", "-o", out.name], 1.0
        else:
            wrapper = [shutil.which("busybox") or "/bin/busybox", "time", "-f", "%M", "-o", out.name]
            scale = 1024.0 / os.sysconf("SC_PAGE_SIZE")
        p = subprocess.run([*wrapper, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env)
        report = out.read()
    if p.returncode != 0:
        raise BenchError(f"{Path(argv[0]).name}: exit status {p.returncode}: {last_line(p.stderr) or 'no message'}")
    try:
        return float(report.strip().splitlines()[-1]) * scale / KIB
    except (ValueError, IndexError):
        raise BenchError(f"time reported no maximum resident set size: {last_line(report)!r}") from None


def _proc_status(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = float(v.split()[0]) / KIB
    return out


def _running_pod(data: Path) -> Path:
    """The pod of ``data`` whose lock is held (the one running now)."""
    import fcntl

    for q in (data / "pods" / "run").iterdir():
        fd = os.open(q, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            if (q / "pid").exists():
                return q
        finally:
            os.close(fd)
    raise BenchError("no running pod with a pid file while its app runs")


def _pod_process_rss(ctx: Context, data: Path, argv: list[str]) -> tuple[float, str]:
    """Run a pod whose app prints READY then sleeps; the pod process's VmHWM (MiB) while it sleeps."""
    env = ctx.ws.env
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    try:
        buf = b""
        while READY not in buf:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                raise BenchError(f"pod exited before its app was ready: {last_line(p.stderr.read())}")
            buf += chunk
        pod = _running_pod(data)
        pid = int((pod / "pid").read_text())
        st = _proc_status(pid)
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        return st["VmHWM"], comm
    except (OSError, ValueError, KeyError) as e:
        raise BenchError(f"cannot read the pod process: {e}") from None
    finally:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def run(ctx: Context) -> list[Result]:
    """``memory.*`` in MiB: interpreter and runc peers, ``rkt run`` and its pod process per flavor."""
    ws = ctx.ws
    data = ws.data_dir("memory")
    n = ctx.reps("heavy")
    out = []
    py = Result("memory.python", "memory", "python3 -c pass: max RSS", "MiB")
    runc = Result("memory.runc", "memory", "runc run /bin/true: max RSS (largest of runc and its children)", "MiB")
    for r, argv in ((py, ctx.floor("x").argv), (runc, ws.runc(ws.runc_bundle(["/bin/true"])))):
        try:
            r.samples = [_max_rss(list(argv), ws.env) for _ in range(n)]
        except BenchError as e:
            r.error = str(e)
        out.append(r)
    flavors = list(ctx.container_flavors()) + ([] if ctx.quick else ctx.vm_flavors())
    ctx.say(f"memory: {len(flavors)} flavor(s) x {n} runs")
    try:
        for f in flavors:
            rr = Result(f"memory.rkt-{f.name}", "memory",
                        f"rkt run --stage1-name={f.name} /bin/true{' (default network)' * ('contained' in f.net_modes)}"
                        ": max RSS (largest of rkt and its children)",
                        "MiB", peer="memory.runc")
            pod = Result(f"memory.pod-{f.name}", "memory", f"{f.name} pod process while its app runs: VmHWM", "MiB")
            out += [rr, pod]
            if not f.runnable and not (f.installed and f.name in VM_FLAVORS):
                rr.error = pod.error = f.reason
                continue
            if f.name == "kvm":
                ctx.libvirt()
            try:
                ref = ws.image_ref(data, "true", ("/bin/true",))
                sleeper = ws.image_ref(data, "sleep", ("/bin/sh", "-c", f"echo {READY.decode()}; exec sleep 1"))
                rr.samples = [_max_rss(ws.rkt(data, "run", f"--stage1-name={f.name}", ref), ws.env)
                              for _ in range(n)]
                for _ in range(n):
                    hwm, comm = _pod_process_rss(ctx, data, ws.rkt(data, "run", f"--stage1-name={f.name}", sleeper))
                    pod.samples.append(hwm)
                    pod.note = f"pod process: {comm}" + (" (fly: the app itself)" if f.name == "fly" else "")
            except BenchError as e:
                rr.error = rr.error or str(e)
                pod.error = str(e)
    finally:
        ws.gc(data)
    return out
