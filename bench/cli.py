"""``python -m bench [--quick] [NAME ...]``: run the suites, print the tables, write the results.

Results go to ``bench/results/latest.json`` (and a dated copy beside it, to compare over time);
a full, non-quick run also rewrites ``bench/RESULTS.md``, the table the README shows.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

from bench.budgets import judge
from bench.context import Context
from bench.report import Scrubber, host, render_markdown, render_text, update_readme, write_json
from bench.suites import DESCRIPTIONS, NAMES, suite
from bench.timing import BenchError, Result, failed
from bench.workspace import RKT, Workspace

HERE = Path(__file__).resolve().parent


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of rkt against peers.",
                                epilog="suites: " + ", ".join(NAMES))
    p.add_argument("names", nargs="*", metavar="NAME", help="suites to run (default: all)")
    p.add_argument("--quick", action="store_true", help="few repetitions (numbers are rougher)")
    p.add_argument("--names", dest="list_names", action="store_true", help="list the suites and exit")
    p.add_argument("--keep", action="store_true", help="keep the workspace (pods, images) for inspection")
    p.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where to write the JSON")
    p.add_argument("--markdown", type=Path, default=None,
                   help="where to write the markdown table (default: bench/RESULTS.md after a full run)")
    p.add_argument("--flavors", default="", metavar="NAME,...",
                   help="also measure these installed flavors (the built-in ones always are)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when a budget fails")
    ns = p.parse_args(argv)
    unknown = [n for n in ns.names if n not in NAMES]
    if unknown:
        p.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    return ns


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.list_names:
        for n in NAMES:
            print(f"{n:8}  {DESCRIPTIONS[n]}")
        return
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (pods, mounts, namespaces)")
    if not RKT.exists():
        sys.exit(f"bench: no rkt command next to {sys.executable}; run it with the project's virtualenv")
    names = [n for n in NAMES if n in args.names] if args.names else list(NAMES)
    started = time.monotonic()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ws = Workspace(quick=args.quick, keep=args.keep)
    ctx = Context(ws, quick=args.quick, extra_flavors=tuple(filter(None, args.flavors.split(","))))
    results: list[Result] = []
    try:
        for name in names:
            t0 = time.monotonic()
            try:
                results += suite(name)(ctx)
            except BenchError as e:
                results.append(failed(f"{name}.error", name, f"{name} suite", str(e)))
            except Exception as e:  # a bug in one suite must not stop the others, nor the cleanup
                results.append(failed(f"{name}.error", name, f"{name} suite", f"{type(e).__name__}: {e}"))
            ctx.say(f"{name}: done in {time.monotonic() - t0:.1f} s")
    except KeyboardInterrupt:
        ctx.say("interrupted; cleaning up")
        sys.exit(130)
    finally:
        ws.close()
        ctx.close()
    scrub = Scrubber(ws.root)
    results = [scrub.result(r) for r in results]
    verdicts = [scrub.verdict(v) for v in judge(results, set(names))]
    measured = {r.key for r in results if r.ok}
    flavor_suites = {"startup", "vm", "memory"} & set(names)
    seen = ctx.flavors.values() if flavor_suites else ()
    unrun = [f"{f.name}: {f.reason}" for f in seen if not f.runnable and not any(
        k.endswith((f"rkt-{f.name}", f"rkt-{f.name}-net")) or k.startswith(f"vm.{f.name}-") for k in measured)]
    notes = [scrub(n) for n in [*ws.notes, *ctx.notes, *unrun]]
    meta: dict[str, object] = {"date": date, "quick": args.quick, "suites": names, "host": host(),
                               "duration_s": round(time.monotonic() - started), "notes": notes}
    print(render_text(results, verdicts, names))
    for n in notes:
        print(f"note: {n}")
    write_json(args.json, results, verdicts, meta)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    if args.json == HERE / "results" / "latest.json":
        write_json(args.json.with_name(f"{stamp}.json"), results, verdicts, meta)
    md = args.markdown or (HERE / "RESULTS.md" if names == list(NAMES) and not args.quick else None)
    if md is not None:
        md.write_text(render_markdown(results, verdicts, names, DESCRIPTIONS, meta))
        if md == HERE / "RESULTS.md" and verdicts:
            update_readme(HERE.parent / "README.md", verdicts, meta)
    print(f"\nbench: results in {args.json}" + (f" and {md}" if md else "") +
          f" ({meta['duration_s']} s)")
    if args.strict and any(v.status == "FAIL" for v in verdicts):
        sys.exit(1)
