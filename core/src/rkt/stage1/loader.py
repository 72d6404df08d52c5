"""Loading one flavor into its own plugin manager and checking it against the contract."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rkt.stage1.index import EntryPoint, flavors, plugins
from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION
from rkt_sdk.errors import RktError

if TYPE_CHECKING:
    import pluggy

    from rkt_sdk.types import FlavorInfo

REQUIRED_HOOKS = ("rkt_stage1_describe", "rkt_stage1_host_check", "rkt_stage1_run",
                  "rkt_stage1_stop", "rkt_stage1_gc")


class UnknownFlavor(RktError):
    """No installed flavor has the name asked for."""


class BrokenFlavor(RktError):
    """A flavor's distribution is installed but cannot be loaded or breaks the contract."""


@dataclass
class Flavor:
    """A loaded flavor: its entry point, its description and the hooks to call."""

    entry: EntryPoint
    info: FlavorInfo
    pm: pluggy.PluginManager

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def implements(self, hook: str) -> bool:
        """Whether the flavor (not just a cross-cutting plugin) implements ``hook``."""
        return bool(getattr(self.pm.hook, hook).get_hookimpls())

    def config_schema(self) -> list[Any]:
        if not self.implements("rkt_stage1_config_schema"):
            return []
        return list(self.pm.hook.rkt_stage1_config_schema() or [])

    def settings(self, config_dirs: tuple[Path, ...]) -> Mapping[str, Any]:
        """This flavor's validated per-host settings."""
        from rkt.stage1.settings import flavor_settings

        return flavor_settings(self, config_dirs)


def _broken(ep: EntryPoint, why: str) -> BrokenFlavor:
    return BrokenFlavor(f"flavor {ep.name!r} from distribution {ep.dist} {ep.dist_version} is broken: {why}")


def load_entry(ep: EntryPoint, *, with_plugins: list[EntryPoint] | None = None) -> Flavor:
    """Import a flavor's module, register it with the hookspecs and validate it."""
    import pluggy

    from rkt_sdk import hookspecs

    pm = pluggy.PluginManager("rkt")
    pm.add_hookspecs(hookspecs)
    modname, _, attr = ep.value.partition(":")
    try:
        obj: Any = importlib.import_module(modname)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
        pm.register(obj, name=f"stage1:{ep.name}")
        pm.check_pending()
    except RktError:
        raise
    except Exception as e:  # a third party's import or registration failure
        raise _broken(ep, f"{type(e).__name__}: {e}") from None
    for hook in REQUIRED_HOOKS:
        if not getattr(pm.hook, hook).get_hookimpls():
            raise _broken(ep, f"it does not implement the required hook {hook}")
    try:
        info = pm.hook.rkt_stage1_describe()
    except Exception as e:
        raise _broken(ep, f"rkt_stage1_describe failed: {type(e).__name__}: {e}") from None
    if info is None or getattr(info, "name", None) != ep.name:
        raise _broken(ep, f"rkt_stage1_describe names it {getattr(info, 'name', None)!r}, not {ep.name!r}")
    iv = info.interface_version
    if not isinstance(iv, int) or not MIN_INTERFACE_VERSION <= iv <= INTERFACE_VERSION:
        raise _broken(ep, f"it was built for stage1 interface version {iv}, and this rkt supports versions "
                          f"{MIN_INTERFACE_VERSION} to {INTERFACE_VERSION}; install a matching version of {ep.dist}")
    for plug in with_plugins or ():
        try:
            pmod = importlib.import_module(plug.value.partition(":")[0])
            pm.register(pmod, name=f"plugin:{plug.name}")
            pm.check_pending()
        except Exception as e:
            import sys

            sys.stderr.write(f"rkt: warning: plugin {plug.name!r} from {plug.dist} not loaded: {e}\n")
    return Flavor(ep, info, pm)


def load_flavor(name: str, cache_dir: Path | None) -> Flavor:
    """Load only the flavor called ``name`` (and any cross-cutting plugins)."""
    installed = flavors(cache_dir)
    ep = installed.get(name)
    if ep is None:
        known = ", ".join(sorted(installed)) or "none"
        raise UnknownFlavor(f'no stage1 flavor named "{name}" is installed (installed flavors: {known})')
    return load_entry(ep, with_plugins=plugins(cache_dir))
