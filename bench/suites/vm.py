"""VM flavors: boot to the app's first output against a raw QEMU boot of the same kernel and initramfs."""

from __future__ import annotations

import json

from bench.context import Context
from bench.rawboot import raw_boot
from bench.timing import BenchError, Result, time_to_marker

MARKER = "RKT-BENCH-MARKER"


def _configure(ctx: Context, names: list[str]) -> None:
    """Keep the VM flavors' caches (initramfs, unpacked kernel, KVM probe) inside the workspace."""
    d = ctx.ws.config / "local" / "stage1.d"
    d.mkdir(parents=True, exist_ok=True)
    cache = str(ctx.ws.root / "vm-cache")
    (d / "50-bench.json").write_text(json.dumps({"rktKind": "stage1", "rktVersion": "v1",
                                                 "settings": {n: {"cache_dir": cache} for n in names}}))


def run(ctx: Context) -> list[Result]:
    """``vm.raw`` (peer), ``vm.<flavor>-app`` (time to the app's output) and ``vm.<flavor>-run`` (whole run)."""
    ws = ctx.ws
    raw = Result("vm.raw", "vm", "raw qemu-system boot of the same kernel + initramfs to a marker")
    out = [raw]
    try:
        boot = raw_boot(ws.root / "vm-cache")
        raw.note = boot.note
    except BenchError as e:
        raw.error = str(e)
        boot = None
    flavors = ctx.vm_flavors()
    _configure(ctx, [f.name for f in flavors if f.runnable])
    data = ws.data_dir("vm")
    runs = []
    for f in flavors:
        app = Result(f"vm.{f.name}-app", "vm", f"rkt run --stage1-name={f.name}: start to the app's first output",
                     peer="vm.raw")
        whole = Result(f"vm.{f.name}-run", "vm", f"rkt run --stage1-name={f.name} of an echo app, start to exit")
        if not f.runnable:
            app.error = whole.error = f.reason
        else:
            ref = ws.image_ref(data, "marker", ("/bin/echo", MARKER))
            runs.append((f.name, ws.rkt(data, "run", f"--stage1-name={f.name}", ref), app, whole))
        out += [app, whole]
    n = ctx.reps("slow")
    ctx.say(f"vm: raw boot and {len(runs)} flavor(s) x {n} rounds")
    try:
        for name, argv, app, _ in runs:  # warm-up: builds the flavor's caches
            try:
                time_to_marker(f"rkt run --stage1-name={name}", argv, MARKER.encode(), ws.env)
            except BenchError as e:
                app.error = str(e)
        for _ in range(n):
            if boot is not None and not raw.error:
                try:
                    raw.samples.append(time_to_marker("raw boot", boot.argv, boot.marker, ws.env)[0] * 1000.0)
                except BenchError as e:
                    raw.error = str(e)
            for name, argv, app, whole in runs:
                if app.error:
                    continue
                try:
                    first, total = time_to_marker(f"rkt run --stage1-name={name}", argv, MARKER.encode(), ws.env)
                    app.samples.append(first * 1000.0)
                    whole.samples.append(total * 1000.0)
                except BenchError as e:
                    app.error = str(e)
    finally:
        ws.gc(data)
    for _, _, app, whole in runs:
        if app.error and not whole.error:
            whole.error = app.error
    return out

