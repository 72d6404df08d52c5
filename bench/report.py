"""Printing the results: a text table, the markdown copy for the README, and the JSON record."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.budgets import Verdict
from bench.timing import Result

REPO = Path(__file__).resolve().parent.parent


def _fmt(v: float, unit: str) -> str:
    if unit == "ms":
        return f"{v / 1000:.2f} s" if v >= 10_000 else f"{v:.1f} ms"
    return f"{v:.2f} {unit}" if v < 10 else f"{v:.1f} {unit}"


def rows(results: Sequence[Result]) -> list[list[str]]:
    """One row per result: measurement, median, min–max, n, peer, ratio, difference."""
    by_key = {r.key: r for r in results}
    out = [["measurement", "median", "min – max", "n", "vs", "ratio", "Δ"]]
    for r in results:
        if not r.ok:
            why = r.error if len(r.error) <= 160 else r.error[:159] + "…"
            out.append([r.label, "—", "", "0", "", "", f"not measured: {why}"])
            continue
        peer = by_key.get(r.peer or "")
        ratio = delta = vs = ""
        if peer is not None and peer.ok and peer.unit == r.unit:
            vs = peer.key.split(".", 1)[1]
            ratio = f"{r.median / peer.median:.2f}×"
            delta = f"{'+' if r.median >= peer.median else '−'}{_fmt(abs(r.median - peer.median), r.unit)}"
        out.append([r.label + (f" [{r.note}]" if r.note else ""), _fmt(r.median, r.unit),
                    f"{_fmt(min(r.samples), r.unit)} – {_fmt(max(r.samples), r.unit)}", str(len(r.samples)),
                    vs, ratio, delta])
    return out


def text_table(table: list[list[str]], max_first: int = 70) -> str:
    """Columns padded with spaces; the first column cut to ``max_first`` characters."""
    cut = [[c if i else (c if len(c) <= max_first else c[:max_first - 1] + "…") for i, c in enumerate(row)]
           for row in table]
    widths = [max(len(row[i]) for row in cut) for i in range(len(cut[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cut) + "\n"


def md_table(table: list[list[str]]) -> str:
    esc = [[c.replace("|", "\\|") for c in row] for row in table]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "|".join("---" for _ in esc[0]) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in esc[1:]]
    return "\n".join(lines) + "\n"


def budget_rows(verdicts: Sequence[Verdict]) -> list[list[str]]:
    return [["budget", "verdict", "by how much"]] + [[v.budget, v.status, v.detail] for v in verdicts]


def host() -> dict[str, str]:
    """What the numbers depend on: CPUs, kernel, Python, the commit measured."""
    info = {"cpus": str(os.cpu_count()), "kernel": platform.release(), "python": platform.python_version(),
            "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
        if model:
            info["cpu"] = model
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            info["commit"] = commit + ("+changes" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


class Scrubber:
    """Replaces this machine's paths (the workspace, the repository) in text meant for others."""

    def __init__(self, workspace: Path) -> None:
        self.pairs = [(str(workspace), "$WORKSPACE"), (str(REPO), "."), (str(Path.home()), "~")]

    def __call__(self, text: str) -> str:
        for old, new in self.pairs:
            if old and old != "/":
                text = text.replace(old, new)
        return text

    def result(self, r: Result) -> Result:
        return Result(r.key, r.suite, self(r.label), r.unit, r.samples, r.peer, self(r.note), self(r.error))

    def verdict(self, v: Verdict) -> Verdict:
        return Verdict(v.budget, v.status, self(v.detail), v.value)


def by_suite(results: Sequence[Result], order: Sequence[str]) -> list[tuple[str, list[Result]]]:
    return [(s, [r for r in results if r.suite == s]) for s in order if any(r.suite == s for r in results)]


def render_text(results: Sequence[Result], verdicts: Sequence[Verdict], order: Sequence[str]) -> str:
    parts = []
    for suite, rs in by_suite(results, order):
        parts.append(f"== {suite}\n" + text_table(rows(rs)))
    if verdicts:
        parts.append("== budgets\n" + text_table(budget_rows(verdicts), 60))
    return "\n".join(parts)


def render_markdown(results: Sequence[Result], verdicts: Sequence[Verdict], order: Sequence[str],
                    descriptions: dict[str, str], meta: dict[str, object]) -> str:
    h = meta.get("host", {})
    assert isinstance(h, dict)
    head = ["# Benchmark results", "",
            "Medians over repeated runs; each ratio is against a peer measured in the same run, interleaved "
            "with it (`nox -s bench`, or `python -m bench`; `--quick` for fewer repetitions).", "",
            f"Measured {meta.get('date', '')} on {h.get('cpus', '?')} CPUs ({h.get('cpu', h.get('machine', ''))}), "
            f"Linux {h.get('kernel', '')}, Python {h.get('python', '')}, commit {h.get('commit', '?')}"
            f"{', quick mode' if meta.get('quick') else ''}; the whole bench took {meta.get('duration_s', '?')} s.", ""]
    parts = ["\n".join(head)]
    if verdicts:
        parts.append("## Budgets\n\n" + md_table(budget_rows(verdicts)))
    for suite, rs in by_suite(results, order):
        parts.append(f"## {suite}\n\n{descriptions.get(suite, '')}\n\n" + md_table(rows(rs)))
    notes = meta.get("notes") or []
    if isinstance(notes, list) and notes:
        parts.append("## Notes\n\n" + "\n".join(f"- {n}" for n in notes) + "\n")
    return "\n".join(parts)


README_START = "<!-- bench:budgets:start (written by python -m bench after a full run) -->"
README_END = "<!-- bench:budgets:end -->"


def update_readme(readme: Path, verdicts: Sequence[Verdict], meta: dict[str, object]) -> bool:
    """Put the budget table of this run between the markers of ``readme``; False when it has none."""
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    h = meta.get("host", {})
    assert isinstance(h, dict)
    block = (f"{README_START}\nMeasured {meta.get('date', '')} on {h.get('cpus', '?')} CPUs, "
             f"commit {h.get('commit', '?')}:\n\n" + md_table(budget_rows(verdicts)))
    readme.write_text(text[:start] + block + text[end:])
    return True


def write_json(path: Path, results: Sequence[Result], verdicts: Sequence[Verdict], meta: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, **meta, "results": [r.to_json() for r in results],
           "budgets": [v.to_json() for v in verdicts]}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
