"""VM flavors: boot to the app's first output against a raw QEMU boot of the same kernel and initramfs."""

from __future__ import annotations

import json

from bench.context import Context
from bench.rawboot import MACHINES, RawBoot, raw_boot
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
    """``vm.raw-<machine>`` (peers), ``vm.<flavor>-app`` (start to the app's output), ``vm.<flavor>-run``."""
    ws = ctx.ws
    flavors = [f for f in ctx.vm_flavors() if f.installed]
    _configure(ctx, [f.name for f in flavors])
    raws: dict[str, tuple[Result, RawBoot | None]] = {}
    for machine in dict.fromkeys(MACHINES.get(f.name, "microvm") for f in ctx.vm_flavors()):
        r = Result(f"vm.raw-{machine}", "vm", f"raw qemu-system boot ({machine}) of the same kernel + initramfs "
                                              "to a marker")
        try:
            boot: RawBoot | None = raw_boot(ws.root / "vm-cache", machine)
            r.note = boot.note if boot else ""
        except BenchError as e:
            r.error, boot = str(e), None
        raws[machine] = (r, boot)
    out = [r for r, _ in raws.values()]
    data = ws.data_dir("vm")
    runs = []
    for f in ctx.vm_flavors():
        peer = f"vm.raw-{MACHINES.get(f.name, 'microvm')}"
        cmd = f"rkt run --stage1-name={f.name} --net=none"
        app = Result(f"vm.{f.name}-app", "vm", f"{cmd}: start to the app's first output", peer=peer)
        whole = Result(f"vm.{f.name}-run", "vm", f"{cmd} of an echo app, start to exit")
        if not f.installed:
            app.error = whole.error = f.reason
        else:
            ref = ws.image_ref(data, "marker", ("/bin/echo", MARKER))
            runs.append((f.name, ws.rkt(data, "run", f"--stage1-name={f.name}", "--net=none", ref), app, whole,
                         f.reason))
        out += [app, whole]
    n = ctx.reps("slow")
    ctx.say(f"vm: {len(raws)} raw boot(s) and {len(runs)} flavor(s) x {n} rounds")
    try:
        for name, argv, app, _, reason in runs:  # warm-up: builds the flavor's caches, tells whether it runs
            if name == "kvm":
                ctx.libvirt()
            try:
                time_to_marker(f"rkt run --stage1-name={name}", argv, MARKER.encode(), ws.env)
            except BenchError as e:
                app.error = f"{e}" + (f" ({reason})" if reason else "")
        for _ in range(n):
            for r, boot in raws.values():
                if boot is not None and not r.error:
                    try:
                        r.samples.append(time_to_marker("raw boot", boot.argv, boot.marker, ws.env)[0] * 1000.0)
                    except BenchError as e:
                        r.error = str(e)
            for name, argv, app, whole, _ in runs:
                if app.error:
                    continue
                if name == "kvm":
                    ctx.libvirt()
                try:
                    first, total = time_to_marker(f"rkt run --stage1-name={name}", argv, MARKER.encode(), ws.env)
                    app.samples.append(first * 1000.0)
                    whole.samples.append(total * 1000.0)
                except BenchError as e:
                    app.error = str(e)
    finally:
        ws.gc(data)
    for _, _, app, whole, _ in runs:
        if app.error and not whole.error:
            whole.error = app.error
    return out
