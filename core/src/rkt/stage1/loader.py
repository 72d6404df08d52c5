"""Loading one flavor into its own plugin manager and checking it against the contract."""

from __future__ import annotations

import importlib

from rkt.stage1.index import EntryPoint, load_index
from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION, PLUGIN_GROUP, STAGE1_GROUP
from rkt_sdk.contract import REQUIRED_HOOKS, compatible, description_problem
from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    import pluggy

    from rkt_sdk.types import FlavorInfo

class UnknownFlavor(RktError):
    """No installed flavor has the name asked for."""


class BrokenFlavor(RktError):
    """A flavor's distribution is installed but cannot be loaded or breaks the contract."""


class Flavor(Record):
    """A loaded flavor: its entry point, its description and the hooks to call.

    ``hook`` is the plugin manager's hook relay, or, for a flavor pluggy validated on an
    earlier load, the flavor's functions called directly (:mod:`rkt.stage1.direct`); both
    are called the same way (``flavor.hook.rkt_stage1_run(pod=..., options=...)``).
    ``pm`` is the plugin manager when one was built.
    """

    entry: EntryPoint
    info: FlavorInfo
    hook: Any
    pm: pluggy.PluginManager | None = None

    @property
    def name(self) -> str:
        return self.entry.name

    def implements(self, hook: str) -> bool:
        """Whether the flavor (not just a cross-cutting plugin) implements ``hook``."""
        return bool(getattr(self.hook, hook).get_hookimpls())

    def config_schema(self) -> list[Any]:
        if not self.implements("rkt_stage1_config_schema"):
            return []
        return list(self.hook.rkt_stage1_config_schema() or [])

    def settings(self, config_dirs: tuple[Path, ...]) -> Mapping[str, Any]:
        """This flavor's validated per-host settings."""
        from rkt.config.stage1 import flavor_settings

        return flavor_settings(self, config_dirs)


class IncompatibleFlavor(BrokenFlavor):
    """A flavor built for a stage1 interface version this rkt does not drive."""


def broken_flavor(ep: EntryPoint, why: str) -> BrokenFlavor:
    """The error of a flavor that cannot be loaded: names it, its distribution and ``why``."""
    return BrokenFlavor(f"flavor {ep.name!r} from distribution {ep.dist} {ep.dist_version} is broken: {why}")


def _incompatible(ep: EntryPoint, iv: object) -> IncompatibleFlavor:
    supported = (f"version {INTERFACE_VERSION}" if MIN_INTERFACE_VERSION == INTERFACE_VERSION
                 else f"versions {MIN_INTERFACE_VERSION} to {INTERFACE_VERSION}")
    if isinstance(iv, int) and iv > INTERFACE_VERSION:
        fix = f"upgrade rkt, or install a version of {ep.dist} built for interface {INTERFACE_VERSION}"
    elif isinstance(iv, int):
        fix = f"upgrade {ep.dist} to a version built for interface {INTERFACE_VERSION}"
    else:
        fix = f"its rkt_stage1_describe must give an integer interface_version; report this to {ep.dist}'s authors"
    return IncompatibleFlavor(f"flavor {ep.name!r} from distribution {ep.dist} {ep.dist_version} was built for "
                              f"stage1 interface version {iv!r}, and this rkt drives interface {supported}: {fix}")


def _declared_interface(obj: Any) -> object:
    """The interface version a flavor object declares, or ``None`` if it cannot say."""
    describe = getattr(obj, "rkt_stage1_describe", None)
    if not callable(describe):
        return None
    try:
        return getattr(describe(), "interface_version", None)
    except Exception:
        return None


def _import(ep: EntryPoint) -> Any:
    """The object an entry point names (a module, or an attribute of one)."""
    modname, _, attr = ep.value.partition(":")
    try:
        obj: Any = importlib.import_module(modname)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
    except RktError as e:
        raise broken_flavor(ep, f"importing {ep.value} failed: {e}") from None
    except (Exception, SystemExit) as e:  # a third party's import failure
        raise broken_flavor(ep, f"importing {ep.value} failed: {type(e).__name__}: {e}") from None
    return obj


def _register(ep: EntryPoint, obj: Any) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs and the flavor registered and validated by pluggy."""
    import pluggy

    from rkt_sdk import hookspecs

    pm = pluggy.PluginManager("rkt")
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(obj, name=f"stage1:{ep.name}")
        pm.check_pending()
    except Exception as e:  # a bad hookimpl (unknown hook, wrong arguments)
        iv = _declared_interface(obj)
        if iv is not None and not compatible(iv):
            raise _incompatible(ep, iv) from None
        raise broken_flavor(ep, f"{type(e).__name__}: {e}") from None
    return pm


def load_entry(ep: EntryPoint, *, with_plugins: list[EntryPoint] | None = None,
               cache_dir: Path | None = None) -> Flavor:
    """Import a flavor's module, register it with the hookspecs and validate it.

    With ``cache_dir``, a flavor pluggy validated on an earlier load (same code, see
    :mod:`rkt.stage1.direct`) and no cross-cutting plugins is called directly, without a
    plugin manager; a flavor validated now is remembered there.

    :raises IncompatibleFlavor: the flavor declares an interface version outside
        ``MIN_INTERFACE_VERSION..INTERFACE_VERSION`` (checked first when registration
        fails, since a newer flavor may implement hooks this rkt does not know).
    :raises BrokenFlavor: anything else that stops the flavor from loading; the message
        names the flavor, its distribution and what went wrong.
    """
    from rkt.stage1.direct import direct_hooks, remember

    obj = _import(ep)
    hook: Any = direct_hooks(ep, obj, cache_dir) if not with_plugins else None
    pm = None
    if hook is None:
        pm = _register(ep, obj)
        hook = pm.hook
    for name in REQUIRED_HOOKS:
        if not getattr(hook, name).get_hookimpls():
            raise broken_flavor(ep, f"it does not implement the required hook {name}")
    try:
        info = hook.rkt_stage1_describe()
    except Exception as e:
        raise broken_flavor(ep, f"rkt_stage1_describe failed: {type(e).__name__}: {e}") from None
    problem = description_problem(info, ep.name)
    if problem:
        raise broken_flavor(ep, problem)
    if not compatible(info.interface_version):
        raise _incompatible(ep, info.interface_version)
    if pm is not None and not with_plugins:
        remember(ep, obj, pm, cache_dir)
    if pm is not None:
        for plug in with_plugins or ():
            try:
                pmod = importlib.import_module(plug.value.partition(":")[0])
                pm.register(pmod, name=f"plugin:{plug.name}")
                pm.check_pending()
            except (Exception, SystemExit) as e:
                import sys

                sys.stderr.write(f"rkt: warning: plugin {plug.name!r} from {plug.dist} not loaded: {e}\n")
    return Flavor(ep, info, hook, pm)


def load_flavor(name: str, cache_dir: Path | None) -> Flavor:
    """Load only the flavor called ``name`` (and any cross-cutting plugins)."""
    eps = load_index(cache_dir)
    installed = {e.name: e for e in eps if e.group == STAGE1_GROUP}
    ep = installed.get(name)
    if ep is None:
        known = ", ".join(sorted(installed)) or "none"
        raise UnknownFlavor(f'no stage1 flavor named "{name}" is installed (installed flavors: {known})')
    return load_entry(ep, with_plugins=[e for e in eps if e.group == PLUGIN_GROUP], cache_dir=cache_dir)
