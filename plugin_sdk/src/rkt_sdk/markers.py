"""The hook markers of the ``rkt`` project name.

``hookimpl`` decorates a flavor's or plugin's implementation of a hook in
:mod:`rkt_sdk.hookspecs`; ``hookspec`` is used by that module only.

They follow pluggy's marker protocol (pluggy's ``HookimplMarker`` and ``HookspecMarker``
with the same options): a marked function carries its options as a ``HookimplOpts`` or
``HookspecOpts`` dict in the attribute ``rkt_impl`` or ``rkt_spec``, which is what a
``pluggy.PluginManager("rkt")`` looks for. They are written here rather than taken from
pluggy so that importing a flavor does not import pluggy: stage0 builds a plugin manager
only when it has to validate a flavor, and calls an already validated one directly.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar, overload

    F = TypeVar("F", bound=Callable[..., object])
else:
    def overload(f: object) -> object:  # the typing stubs below are replaced by the implementation that follows
        return f

PROJECT = "rkt"


class HookspecMarker:
    """Marks hook specifications (``@hookspec`` or ``@hookspec(firstresult=True)``)."""

    __slots__ = ("project_name",)

    def __init__(self, project_name: str) -> None:
        self.project_name = project_name

    @overload
    def __call__(self, function: F, firstresult: bool = False, historic: bool = False,
                 warn_on_impl: Warning | None = None,
                 warn_on_impl_args: Mapping[str, Warning] | None = None) -> F: ...

    @overload
    def __call__(self, function: None = None, firstresult: bool = False, historic: bool = False,  # noqa: F811
                 warn_on_impl: Warning | None = None,
                 warn_on_impl_args: Mapping[str, Warning] | None = None) -> Callable[[F], F]: ...

    def __call__(self, function: Any = None, firstresult: bool = False, historic: bool = False,  # noqa: F811
                 warn_on_impl: Warning | None = None, warn_on_impl_args: Mapping[str, Warning] | None = None) -> Any:
        """Set the spec options on ``function``, or return a decorator that does."""
        if historic and firstresult:
            raise ValueError("cannot have a historic firstresult hook")

        def mark(func: Any) -> Any:
            setattr(func, self.project_name + "_spec", {"firstresult": firstresult, "historic": historic,
                                                        "warn_on_impl": warn_on_impl,
                                                        "warn_on_impl_args": warn_on_impl_args})
            return func

        return mark(function) if function is not None else mark


class HookimplMarker:
    """Marks hook implementations (``@hookimpl`` or ``@hookimpl(tryfirst=True)``).

    The options are pluggy's: ``wrapper``, ``hookwrapper``, ``optionalhook``, ``tryfirst``,
    ``trylast`` and ``specname``.
    """

    __slots__ = ("project_name",)

    def __init__(self, project_name: str) -> None:
        self.project_name = project_name

    @overload
    def __call__(self, function: F, hookwrapper: bool = False, optionalhook: bool = False,
                 tryfirst: bool = False, trylast: bool = False, specname: str | None = None,
                 wrapper: bool = False) -> F: ...

    @overload
    def __call__(self, function: None = None, hookwrapper: bool = False, optionalhook: bool = False,  # noqa: F811
                 tryfirst: bool = False, trylast: bool = False, specname: str | None = None,
                 wrapper: bool = False) -> Callable[[F], F]: ...

    def __call__(self, function: Any = None, hookwrapper: bool = False, optionalhook: bool = False,  # noqa: F811
                 tryfirst: bool = False, trylast: bool = False, specname: str | None = None,
                 wrapper: bool = False) -> Any:
        """Set the implementation options on ``function``, or return a decorator that does."""

        def mark(func: Any) -> Any:
            setattr(func, self.project_name + "_impl", {"wrapper": wrapper, "hookwrapper": hookwrapper,
                                                        "optionalhook": optionalhook, "tryfirst": tryfirst,
                                                        "trylast": trylast, "specname": specname})
            return func

        return mark(function) if function is not None else mark


hookspec = HookspecMarker(PROJECT)
hookimpl = HookimplMarker(PROJECT)
