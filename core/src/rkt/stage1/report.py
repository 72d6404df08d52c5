"""What ``rkt flavors`` and ``rkt config`` say of each installed flavor, each loaded on its own.

A broken flavor is reported, never raised: the others are still listed.
"""

from __future__ import annotations

from rkt.stage1.index import EntryPoint, flavors
from rkt.stage1.loader import broken_flavor, load_entry
from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from rkt_sdk.types import FlavorInfo


class FlavorReport(Record):
    """What ``rkt flavors`` says of one installed flavor.

    :ivar entry: its entry point (name, distribution and version).
    :ivar info: its description, or ``None`` when it is broken.
    :ivar error: why it is broken (loading, contract or settings), or ``""``.
    :ivar can_run: whether the host check says this host can run it.
    :ivar reason: why not, when ``can_run`` is false.
    :ivar warnings: the host check's warnings.
    :ivar settings: its effective per-host settings (``{}`` when broken).
    """

    entry: EntryPoint
    info: FlavorInfo | None = None
    error: str = ""
    can_run: bool = False
    reason: str = ""
    warnings: tuple[str, ...] = ()
    settings: Mapping[str, Any] | None = None

    @property
    def broken(self) -> bool:
        return self.info is None


def report_flavor(ep: EntryPoint, config_dirs: tuple[Path, ...], *, host_check: bool = True) -> FlavorReport:
    """Load one flavor, read its settings and ask its host check; never raises for a broken flavor."""
    try:
        flavor = load_entry(ep)
    except RktError as e:
        return FlavorReport(ep, error=str(e))
    try:
        settings = flavor.settings(config_dirs)
    except RktError as e:
        return FlavorReport(ep, flavor.info, can_run=False, reason=f"bad per-host settings: {e}")
    except Exception as e:
        why = f"rkt_stage1_config_schema failed: {type(e).__name__}: {e}"
        return FlavorReport(ep, error=str(broken_flavor(ep, why)))
    if not host_check:
        return FlavorReport(ep, flavor.info, settings=settings)
    try:
        check = flavor.hook.rkt_stage1_host_check(settings=settings)
    except Exception as e:
        return FlavorReport(ep, flavor.info, can_run=False, settings=settings,
                            reason=f"its host check failed: {type(e).__name__}: {e}")
    ok = bool(getattr(check, "ok", False))
    reason = str(getattr(check, "reason", "") or "")
    if not ok and not reason:
        reason = "its host check gave no reason"
    return FlavorReport(ep, flavor.info, can_run=ok, reason="" if ok else reason,
                        warnings=tuple(getattr(check, "warnings", ()) or ()), settings=settings)


def survey(cache_dir: Path | None, config_dirs: tuple[Path, ...], *, host_check: bool = True) -> list[FlavorReport]:
    """Every installed flavor, each loaded on its own: a broken one is reported, the others still listed.

    Host checks may probe for seconds (a VM flavor boots nothing, but may ask a daemon), so
    the flavors are examined in parallel threads.
    """
    eps = [ep for _, ep in sorted(flavors(cache_dir).items())]
    if len(eps) <= 1:
        return [report_flavor(ep, config_dirs, host_check=host_check) for ep in eps]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(eps))) as pool:
        return list(pool.map(lambda ep: report_flavor(ep, config_dirs, host_check=host_check), eps))


def stage1_entries(config_dirs: tuple[Path, ...], cache_dir: Path | None) -> list[dict[str, Any]]:
    """Each installed flavor's effective settings, as ``rkt config`` prints them under ``stage1``;
    a malformed setting raises ``ConfigError``."""
    from rkt.config.stage1 import flavor_settings, raw_settings

    out: list[dict[str, Any]] = []
    installed = flavors(cache_dir)
    for name, ep in sorted(installed.items()):
        entry: dict[str, Any] = {"name": name, "distribution": ep.dist, "version": ep.dist_version}
        try:
            flavor = load_entry(ep)
        except RktError as e:
            entry["error"] = str(e)
            out.append(entry)
            continue
        entry["version"] = flavor.info.version
        entry["settings"] = flavor_settings(flavor, config_dirs)
        out.append(entry)
    for name, sources in sorted(raw_settings(config_dirs).items()):
        if name not in installed:
            out.append({"name": name, "error": f"not installed (settings in {', '.join(str(p) for p, _ in sources)})"})
    return out
