"""The commands users run in loops: ``rkt version``, ``list``, ``status`` and ``gc``."""

from __future__ import annotations

from bench.context import Context
from bench.timing import BenchError, Result, Subject, compare, failed
from bench.workspace import remove_tree

POD_COUNTS = (1, 100, 1000)
GC_PODS = 200


def version(ctx: Context) -> list[Result]:
    """``version.rkt`` against the interpreter floor."""
    ws = ctx.ws
    data = ws.data_dir("version")
    return compare("version", [ctx.floor("version.python"),
                               Subject("version.rkt", "rkt version", ws.rkt(data, "version"), env=ws.env,
                                       peer="version.python")], ctx.reps("fast"))


def _with_pods(ctx: Context, suite: str, argv_for: str) -> list[Result]:
    ws = ctx.ws
    subjects = [ctx.floor(f"{suite}.python")]
    try:
        for n in POD_COUNTS:
            data, uuids = ctx.pods.fresh(f"pods-{n}", n)
            args = ["list"] if argv_for == "list" else ["status", uuids[-1]]
            subjects.append(Subject(f"{suite}.{n}", f"rkt {' '.join(args[:1])} with {n} exited pod{'s' * (n > 1)}",
                                    ws.rkt(data, *args), env=ws.env, peer=f"{suite}.python", note=ctx.pods.note))
    except (BenchError, OSError) as e:
        return [failed(f"{suite}.{n}", suite, f"rkt {argv_for} with {n} pods", f"cannot make pods: {e}")
                for n in POD_COUNTS]
    ctx.say(f"{suite}: {len(subjects)} subjects x {ctx.reps('fast')} rounds")
    return compare(suite, subjects, ctx.reps("fast"))


def list_pods(ctx: Context) -> list[Result]:
    """``list.N``: ``rkt list`` with N exited pods on disk."""
    return _with_pods(ctx, "list", "list")


def status(ctx: Context) -> list[Result]:
    """``status.N``: ``rkt status UUID`` with N exited pods on disk."""
    return _with_pods(ctx, "status", "status")


def gc(ctx: Context) -> list[Result]:
    """``gc.rkt``: ``rkt gc`` removing 200 exited pods, against ``rm -rf`` of 200 identical pod directories."""
    ws = ctx.ws
    try:
        ctx.pods.template()
    except (BenchError, OSError) as e:
        return [failed("gc.rkt", "gc", f"rkt gc of {GC_PODS} exited pods", f"cannot make pods: {e}")]
    gc_data = ws.data_dir("gc", in_memory=True)
    rm_data = ws.data_dir("gc-rm", in_memory=True)

    def fill_gc() -> None:
        ctx.pods.fresh("gc", GC_PODS)

    def fill_rm() -> None:
        ctx.pods.fresh("gc-rm", GC_PODS)

    def all_gone() -> None:
        left = [p for st in ("run", "exited-garbage", "garbage") for p in (gc_data / "pods" / st).iterdir()]
        if left:
            raise BenchError(f"rkt gc left {len(left)} of {GC_PODS} pods behind")

    subjects = [
        Subject("gc.rm", f"rm -rf of {GC_PODS} exited pod directories", ["rm", "-rf", str(rm_data / "pods" / "run")],
                setup=fill_rm, env=ws.env, warmup=False),
        Subject("gc.rkt", f"rkt gc --grace-period=0s of {GC_PODS} exited pods",
                ws.rkt(gc_data, "gc", "--grace-period=0s"), setup=fill_gc, check=all_gone, env=ws.env,
                peer="gc.rm", note=ctx.pods.note, warmup=False),
    ]
    ctx.say(f"gc: {len(subjects)} subjects x {ctx.reps('slow')} rounds")
    try:
        return compare("gc", subjects, ctx.reps("slow"))
    finally:
        for d in (gc_data, rm_data):
            remove_tree(d)
