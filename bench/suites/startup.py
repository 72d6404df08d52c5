"""Start-up of a pod whose app is ``/bin/true``, against runc, unshare+chroot and the interpreter."""

from __future__ import annotations

from bench.context import Context
from bench.timing import Result, Subject, compare, failed


def run(ctx: Context) -> list[Result]:
    """``startup.*``: one interleaved comparison of every container flavor and the peers."""
    ws = ctx.ws
    rootfs = ws.rootfs()
    data = ws.data_dir("startup")
    subjects = [
        ctx.floor("startup.python"),
        Subject("startup.unshare", "unshare --fork --pid --mount --uts --ipc chroot ROOTFS /bin/true",
                ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "chroot", str(rootfs), "/bin/true"],
                env=ws.env),
        Subject("startup.runc", "runc run (OCI bundle of the same rootfs, /bin/true)",
                ws.runc(ws.runc_bundle(["/bin/true"])), env=ws.env),
    ]
    skipped = []
    ref = ""

    def collect() -> None:
        # untimed: pods of earlier rounds (the fly flavor keeps its mounts until gc) must not slow later ones
        ws.gc(data)

    for f in ctx.container_flavors():
        key, label = f"startup.rkt-{f.name}", f"rkt run --stage1-name={f.name} (/bin/true, image in store)"
        if not f.runnable:
            skipped.append(failed(key, "startup", label, f.reason, "startup.runc"))
            continue
        ref = ref or ws.image_ref(data, "true", ("/bin/true",))
        run = ["run", f"--stage1-name={f.name}"]
        if "contained" in f.net_modes and "none" in f.net_modes:
            # like for like: runc's bundle gets a network namespace with nothing in it, as --net=none does
            subjects.append(Subject(key, label.replace("(/bin/true", "--net=none (/bin/true"),
                                    ws.rkt(data, *run, "--net=none", ref), env=ws.env, peer="startup.runc",
                                    setup=collect))
            subjects.append(Subject(f"{key}-net", label.replace("(/bin/true", "default network (/bin/true"),
                                    ws.rkt(data, *run, ref), env=ws.env, peer="startup.runc", setup=collect))
        else:
            subjects.append(Subject(key, label, ws.rkt(data, *run, ref), env=ws.env, peer="startup.runc",
                                    setup=collect))
    ctx.say(f"startup: {len(subjects)} subjects x {ctx.reps('fast')} rounds")
    try:
        results = compare("startup", subjects, ctx.reps("fast"))
    finally:
        ws.gc(data)
    for r in results:
        if r.key.startswith("startup.rkt-"):
            r.note = "; ".join(ws.notes)
    return results + skipped
