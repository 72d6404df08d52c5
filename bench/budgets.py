"""The start-up budget: limits on ratios and differences between results of one run.

Each budget names the results it needs; it is judged only when they were measured, and
says by how much it is met or missed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.rawboot import MACHINES
from bench.timing import Result

#: a budget's test over its results: whether it is met, the measured value (a ratio, ms or MiB), and why
Judge = Callable[[list[Result]], tuple[bool, float, str]]


@dataclass(frozen=True)
class Verdict:
    """PASS, FAIL or SKIP, the value judged (a ratio, ms or MiB) and the numbers behind it."""

    budget: str
    status: str
    detail: str
    value: float | None = None

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"budget": self.budget, "status": self.status, "detail": self.detail}
        if self.value is not None:
            d["value"] = round(self.value, 3)
        return d


@dataclass(frozen=True)
class Budget:
    """A limit over results ``keys`` (the first key's suite decides whether it is judged)."""

    text: str
    keys: tuple[str, ...]
    judge: Judge

    @property
    def suites(self) -> set[str]:
        return {k.split(".")[0] for k in self.keys}


def ratio_at_most(limit: float, peer_name: str) -> Judge:
    def judge(rs: list[Result]) -> tuple[bool, float, str]:
        a, b = rs[0].median, rs[1].median
        r = a / b
        margin = abs(a - limit * b)
        how = "within by" if r <= limit else "over by"
        unit = rs[0].unit
        return r <= limit, r, (f"{r:.2f}× {peer_name} (limit {limit:g}×): {how} {abs(limit - r):.2f}× "
                               f"({margin:.0f} {unit})")
    return judge


def ratio_below(limit: float, peer_name: str) -> Judge:
    def judge(rs: list[Result]) -> tuple[bool, float, str]:
        r = rs[0].median / rs[1].median
        how = "within" if r < limit else "over"
        return r < limit, r, f"{r:.2f}× {peer_name} (limit < {limit:g}×): {how} by {abs(limit - r):.2f}×"
    return judge


def above_at_most(limit_ms: float, peer_name: str, strict: bool = False) -> Judge:
    def judge(rs: list[Result]) -> tuple[bool, float, str]:
        d = rs[0].median - rs[1].median
        ok = d < limit_ms if strict else d <= limit_ms
        return ok, d, (f"{d:+.1f} ms vs {peer_name} (limit {'<' if strict else '≤'} {limit_ms:g} ms): "
                       f"{'within' if ok else 'over'} by {abs(limit_ms - d):.1f} ms")
    return judge


def no_copy(rs: list[Result]) -> tuple[bool, float, str]:
    """The second pod's directory holds far less than the image: its rootfs was not copied."""
    written, image_mib = rs[0].median, rs[1].median
    first, second = rs[2].median, rs[3].median
    limit = image_mib / 100.0
    ok = written < limit
    return ok, written, (f"second pod holds {written:.2f} MiB for a {image_mib:.0f} MiB image "
                         f"(limit < {limit:.1f} MiB); second start {second:.0f} ms = {second / first:.2f}× the first")


def at_most(limit: float, what: str) -> Judge:
    def judge(rs: list[Result]) -> tuple[bool, float, str]:
        v = rs[0].median
        return v <= limit, v, f"{v:.1f} {rs[0].unit} (limit {limit:g} {what}): {'within' if v <= limit else 'over'}"
    return judge


BUDGETS = (
    Budget("rkt run fly ≤ 2.0 × runc run", ("startup.rkt-fly", "startup.runc"), ratio_at_most(2.0, "runc")),
    Budget("rkt run fly ≤ 50 ms above the interpreter floor", ("startup.rkt-fly", "startup.python"),
           above_at_most(50, "python3 -c pass")),
    Budget("rkt run coreos --net=none ≤ 2.5 × runc run", ("startup.rkt-coreos", "startup.runc"),
           ratio_at_most(2.5, "runc")),
    Budget("rkt list (100 pods) ≤ 30 ms above the floor", ("list.100", "list.python"),
           above_at_most(30, "python3 -c pass")),
    Budget("rkt status (100 pods) ≤ 30 ms above the floor", ("status.100", "status.python"),
           above_at_most(30, "python3 -c pass")),
    Budget("rkt version ≤ 30 ms above the floor", ("version.rkt", "version.python"),
           above_at_most(30, "python3 -c pass")),
    Budget("rkt list, 1000 pods < 10 × 100 pods", ("list.1000", "list.100"), ratio_below(10.0, "100 pods")),
    Budget("image import ≤ 1.3 × tar -x + sha512sum", ("import.rkt-fetch", "import.tar"),
           ratio_at_most(1.3, "tar -x + sha512sum")),
    Budget("signature check ≤ 1.2 × the same fetch with --insecure-options=image", ("verify.signed", "verify.insecure"),
           ratio_at_most(1.2, "--insecure-options=image")),
    Budget("rkt app add + app start (coreos sandbox) ≤ 1.0 × rkt run --net=host",
           ("mutable.add-start", "mutable.run-host"), ratio_at_most(1.0, "rkt run --net=host")),
    Budget("rkt app stop ≤ 50 ms above the app's own exit on SIGTERM", ("mutable.stop", "mutable.self-exit"),
           above_at_most(50, "the app's own exit")),
    Budget("OCI pull until a pod can start ≤ 1.0 × skopeo copy + umoci unpack", ("pull.rkt", "pull.skopeo-umoci"),
           ratio_at_most(1.0, "skopeo copy + umoci unpack")),
    Budget("OCI pull from a loopback registry ≤ 1.0 × skopeo copy docker:// + umoci unpack",
           ("pull.registry-rkt", "pull.registry-skopeo-umoci"), ratio_at_most(1.0, "skopeo copy + umoci unpack")),
    Budget("a second image sharing the base copies ≤ 1.1 × its own layer", ("pull.second-bytes", "pull.second-own"),
           ratio_at_most(1.1, "its own layer")),
    Budget("peak memory of a pull < 100 MiB", ("pull.peak-rss",), at_most(99.9, "MiB")),
    Budget("peak memory of a registry pull < 100 MiB", ("pull.registry-peak-rss",), at_most(99.9, "MiB")),
    Budget("rkt run of a stored image imports no registry client", ("pull.run-imports",), at_most(0, "modules")),
    Budget("second start does not copy the rootfs",
           ("overlay.pod-bytes", "overlay.image", "overlay.first", "overlay.second"), no_copy),
    Budget("qemu flavor overhead (boot to app − raw boot) < 1 s", ("vm.qemu-app", f"vm.raw-{MACHINES['qemu']}"),
           above_at_most(1000, "raw boot", strict=True)),
    Budget("kvm flavor overhead (boot to app − raw boot) < 1.5 s", ("vm.kvm-app", f"vm.raw-{MACHINES['kvm']}"),
           above_at_most(1500, "raw boot", strict=True)),
)


def judge(results: list[Result], suites: set[str]) -> list[Verdict]:
    """The verdict of every budget whose suites ran (SKIP with the reason when a result is missing)."""
    by_key = {r.key: r for r in results}
    out = []
    for b in BUDGETS:
        if not b.suites <= suites:
            continue
        rs = [by_key.get(k) for k in b.keys]
        missing = [(k, r) for k, r in zip(b.keys, rs, strict=True) if r is None or not r.ok]
        if missing:
            k, r = missing[0]
            why = r.error if r is not None and r.error else "not measured"
            out.append(Verdict(b.text, "SKIP", f"{k}: {why}"))
            continue
        ok, value, detail = b.judge([r for r in rs if r is not None])
        out.append(Verdict(b.text, "PASS" if ok else "FAIL", detail, value))
    return out
