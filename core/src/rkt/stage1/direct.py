"""Calling a flavor pluggy has already validated, without building a plugin manager again.

Building a ``pluggy.PluginManager`` imports pluggy and, with it, ``inspect`` and ``typing``:
a fifth of ``rkt run``'s own start-up. So the first load of a flavor goes through pluggy,
which checks every hook implementation against :mod:`rkt_sdk.hookspecs`, and what pluggy
decided is remembered in the data directory's cache (``flavor-hooks.json``): for each
implementation, the hook it implements and the argument names pluggy calls it with.

The memory is keyed by a fingerprint: the entry point and distribution version, each
marked function's name and options, the file (with its size and modification time) and
first line of the function and of every function it wraps, and the hookspecs module's file.
A later load whose fingerprint matches calls the implementations directly, as pluggy
calls a single plugin: arguments by the remembered names, the first non-None result for a
``firstresult`` hook (``None`` when unimplemented), otherwise the list of non-None results.
Any change to the flavor's code changes the fingerprint and sends the next load through
pluggy again.

Only a flavor registered alone (no ``rkt.plugins`` plugin installed) whose implementations
are plain functions and not wrappers is called directly; anything else goes through pluggy.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    import pluggy

    from rkt.stage1.index import EntryPoint

CACHE_NAME = "flavor-hooks.json"
_VERSION = 1
_IMPL_ATTR = "rkt_impl"


def _file_stamp(path: str) -> list[object] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [path, st.st_mtime_ns, st.st_size]


def _specs_file() -> str:
    import rkt_sdk

    return os.path.join(os.path.dirname(rkt_sdk.__file__), "hookspecs.py")


def fingerprint(ep: EntryPoint, plugin: object) -> list[object] | None:
    """What identifies the validated code of ``plugin``; ``None`` if it cannot be called directly."""
    function_type = type(fingerprint)
    marked: list[object] = []
    for name in dir(plugin):
        obj = getattr(plugin, name, None)
        opts = getattr(obj, _IMPL_ATTR, None)
        if not isinstance(opts, dict):
            continue
        if type(obj) is not function_type or opts.get("wrapper") or opts.get("hookwrapper"):
            return None
        where: list[object] = []
        func: Any = obj
        while func is not None:  # the function and, under decorators, each function it wraps
            code = getattr(func, "__code__", None)
            stamp = _file_stamp(code.co_filename) if code is not None else None
            if stamp is None:
                return None
            where.append([code.co_firstlineno, *stamp])  # type: ignore[union-attr]
            func = getattr(func, "__wrapped__", None)
        marked.append([name, [[k, v] for k, v in sorted(opts.items())], where])
    module = getattr(plugin, "__file__", None) or getattr(type(plugin), "__module__", "")
    return [ep.name, ep.value, ep.dist, ep.dist_version, _file_stamp(_specs_file()), str(module), marked]


class DirectCaller:
    """One hook of a directly called flavor: callable with keyword arguments, like pluggy's HookCaller."""

    __slots__ = ("argnames", "firstresult", "function", "name")

    def __init__(self, name: str, function: Callable[..., Any] | None, argnames: tuple[str, ...],
                 firstresult: bool) -> None:
        self.name = name
        self.function = function
        self.argnames = argnames
        self.firstresult = firstresult

    def __call__(self, **kwargs: Any) -> Any:
        if self.function is None:
            return None if self.firstresult else []
        result = self.function(*[kwargs[a] for a in self.argnames])
        if self.firstresult:
            return result
        return [] if result is None else [result]

    def get_hookimpls(self) -> list[Callable[..., Any]]:
        """The implementations (the flavor's function, if it implements the hook)."""
        return [] if self.function is None else [self.function]


class DirectHooks:
    """The hooks of a directly called flavor, by name (``hooks.rkt_stage1_run(pod=..., options=...)``)."""

    def __init__(self, callers: dict[str, DirectCaller]) -> None:
        self.__dict__.update(callers)

    def __getattr__(self, name: str) -> DirectCaller:
        raise AttributeError(f"no hook named {name!r} in the stage1 contract")


def _read(cache: Path) -> dict[str, Any]:
    from rkt.stage1.index import read_cache_file

    return read_cache_file(cache, _VERSION)


def direct_hooks(ep: EntryPoint, plugin: object, cache_dir: Path | None) -> DirectHooks | None:
    """The flavor's hooks to call directly, if pluggy validated this very code before; else ``None``."""
    if cache_dir is None:
        return None
    known = _read(cache_dir / CACHE_NAME).get("flavors", {}).get(ep.name)
    if not isinstance(known, dict) or known.get("fingerprint") != fingerprint(ep, plugin):
        return None
    try:
        callers = {}
        for hook, firstresult in known["specs"].items():
            callers[hook] = DirectCaller(hook, None, (), bool(firstresult))
        for attr, hook, argnames in known["impls"]:
            callers[hook] = DirectCaller(hook, getattr(plugin, attr), tuple(argnames), callers[hook].firstresult)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return DirectHooks(callers)


def remember(ep: EntryPoint, plugin: object, pm: pluggy.PluginManager, cache_dir: Path | None) -> None:
    """Record what pluggy validated of ``plugin`` (registered alone in ``pm``) for later direct calls."""
    if cache_dir is None:
        return
    fp = fingerprint(ep, plugin)
    if fp is None:
        return
    names = {id(getattr(plugin, n, None)): n for n in dir(plugin)}
    specs: dict[str, bool] = {}
    impls: list[list[object]] = []
    for hook, caller in vars(pm.hook).items():
        if hook.startswith("_") or caller.spec is None:
            continue
        specs[hook] = bool(caller.spec.opts.get("firstresult"))
        for impl in caller.get_hookimpls():
            attr = names.get(id(impl.function))
            if attr is None or impl.plugin is not plugin:
                return
            impls.append([attr, hook, list(impl.argnames)])
    cache = cache_dir / CACHE_NAME
    data = _read(cache)
    flavors = data.get("flavors")
    if not isinstance(flavors, dict):
        flavors = {}
    flavors[ep.name] = {"fingerprint": fp, "specs": specs, "impls": impls}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        from rkt_sdk.poddir import write_atomic

        write_atomic(cache, json.dumps({"version": _VERSION, "flavors": flavors}))
    except OSError:
        pass
