"""Mutable pods: ``rkt app add`` + ``app start`` into a running coreos sandbox vs ``rkt run --net=host``
of the same image, and ``rkt app stop`` of an app that obeys SIGTERM vs that app's own exit."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from bench.context import Context
from bench.timing import BenchError, Result, Subject, compare, failed

#: the app stopped by ``app stop``: it leaves at once on SIGTERM (checked every 10 ms at most)
OBEYS_TERM = "trap 'exit 0' TERM; while :; do sleep 0.01; done"


def _sandbox(ctx: Context, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A coreos sandbox (host network) running in the background, and its UUID."""
    ws = ctx.ws
    uuid_file = data / "sandbox.uuid"
    proc = subprocess.Popen(ws.rkt(data, "app", "sandbox", "--stage1-name=coreos", "--net=host",
                                   f"--uuid-file-save={uuid_file}"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=ws.env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if uuid_file.exists() and uuid_file.read_text():
            uuid = uuid_file.read_text()
            if (data / "pods" / "run" / uuid / "stage1-data" / "control").exists():
                return proc, uuid
        if proc.poll() is not None:
            raise BenchError(f"rkt app sandbox exited with {proc.returncode}: "
                             f"{(proc.stderr.read() if proc.stderr else b'').decode(errors='replace')[-200:]}")
        time.sleep(0.02)
    proc.kill()
    raise BenchError("rkt app sandbox did not come up within 30 s")


def _quiet(ctx: Context, argv: list[str]) -> None:
    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=ctx.ws.env, timeout=60)


def _self_exit(rounds: int) -> Result:
    """``mutable.self-exit``: SIGTERM to the same app run directly on the host, until it has exited."""
    r = Result("mutable.self-exit", "mutable", "the app's own exit on SIGTERM (busybox sh, run directly)")
    for _ in range(rounds + 1):
        p = subprocess.Popen(["busybox", "sh", "-c", OBEYS_TERM], stdin=subprocess.DEVNULL)
        time.sleep(0.1)
        t0 = time.perf_counter()
        p.send_signal(signal.SIGTERM)
        p.wait()
        r.samples.append((time.perf_counter() - t0) * 1000.0)
    del r.samples[0]  # warm-up
    return r


def run(ctx: Context) -> list[Result]:
    """``mutable.*``: add+start vs run on the host network; stop vs the app's own exit."""
    flavor = ctx.flavors.get("coreos")
    if flavor is None or not flavor.runnable:
        why = flavor.reason if flavor is not None else "the coreos flavor is not installed"
        return [failed("mutable.add-start", "mutable", "rkt app add + app start", why, "mutable.run-host"),
                failed("mutable.stop", "mutable", "rkt app stop", why, "mutable.self-exit")]
    ws = ctx.ws
    data = ws.data_dir("mutable")
    ref = ws.image_ref(data, "true", ("/bin/true",))
    stopper = ws.image_ref(data, "obeys-term", ("/bin/sh", "-c", OBEYS_TERM))
    proc, uuid = _sandbox(ctx, data)
    rkt = ws.rkt(data)
    try:
        subjects = [
            Subject("mutable.add-start", "rkt app add + app start of /bin/true into a running coreos sandbox",
                    [*rkt, "app", "add", uuid, ref, "--name=bench"], then=[*rkt, "app", "start", uuid, "--app=bench"],
                    env=ws.env, peer="mutable.run-host",
                    setup=lambda: _quiet(ctx, [*rkt, "app", "rm", uuid, "--app=bench"])),
            Subject("mutable.run-host", "rkt run --stage1-name=coreos --net=host (/bin/true, image in store)",
                    ws.rkt(data, "run", "--stage1-name=coreos", "--net=host", ref), env=ws.env,
                    setup=lambda: ws.gc(data)),
        ]
        ctx.say(f"mutable: add+start vs run, {ctx.reps('fast')} rounds")
        results = compare("mutable", subjects, ctx.reps("fast"))

        def running_app() -> None:
            _quiet(ctx, [*rkt, "app", "rm", uuid, "--app=stop"])
            ws.call([*rkt, "app", "add", uuid, stopper, "--name=stop"])
            ws.call([*rkt, "app", "start", uuid, "--app=stop"])
            time.sleep(0.1)

        stop = Subject("mutable.stop", "rkt app stop of an app that exits on SIGTERM", [*rkt, "app", "stop", uuid,
                       "--app=stop"], env=ws.env, peer="mutable.self-exit", setup=running_app)
        results += compare("mutable", [stop], ctx.reps("fast"))
        results.append(_self_exit(ctx.reps("fast")))
        return results
    finally:
        _quiet(ctx, [*rkt, "stop", "--force", uuid])
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        ws.gc(data)

