"""Frozen record classes: what rkt's data types are built on.

A :class:`Record` subclass declares its fields as annotated class attributes, defaults
included, as a frozen dataclass does::

    class HostCheck(Record):
        ok: bool
        reason: str = ""

and gets ``__slots__``, an ``__init__`` taking the fields by position or keyword,
``__repr__``, ``__eq__`` and ``__hash__`` over the fields, and instances that refuse
assignment (:class:`FrozenRecordError`). :func:`replace` and :func:`fields` stand in for
their ``dataclasses`` namesakes, :func:`is_record` for ``is_dataclass``.

Why not ``dataclasses``: a dataclass compiles generated source for every class, which costs
about 0.4 ms a class; rkt's commands start in tens of milliseconds and load dozens of data
types. Making a record class runs no generated code. Type checkers see records as frozen
dataclasses (``dataclass_transform``), so constructors and assignments are checked.

Defaults are shared by every instance, so they must be immutable (tuples, frozensets,
another record, a ``MappingProxyType``); a list, dict or set default is refused.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar, dataclass_transform

    R = TypeVar("R", bound="Record")
else:
    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls

__all__ = ["FrozenRecordError", "Record", "fields", "is_record", "replace"]

_MISSING: Any = object()
_MUTABLE = (list, dict, set, bytearray)


class FrozenRecordError(AttributeError):
    """An attempt to set or delete a field of a record (records are immutable)."""


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(text, str) and (text.startswith("ClassVar") or text.startswith("typing.ClassVar"))


@dataclass_transform(frozen_default=True, eq_default=True)
class RecordMeta(type):
    """Metaclass of :class:`Record`: turns a class body's annotated fields into slots and defaults."""

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any) -> RecordMeta:
        names: list[str] = []
        defaults: dict[str, Any] = {}
        for base in reversed(bases):
            for n in getattr(base, "_record_fields", ()):
                if n not in names:
                    names.append(n)
            defaults.update(getattr(base, "_record_defaults", {}))
        own: list[str] = []
        for n, annotation in ns.get("__annotations__", {}).items():
            if _is_classvar(annotation):
                continue
            if n in ns:
                value = ns.pop(n)
                if isinstance(value, _MUTABLE):
                    raise TypeError(f"{name}.{n}: mutable default {type(value).__name__} is not allowed "
                                    "(records share defaults; use an immutable value)")
                defaults[n] = value
            else:
                defaults.pop(n, None)
            if n not in names:
                names.append(n)
                own.append(n)
        seen_default = ""
        for n in names:
            if n in defaults:
                seen_default = n
            elif seen_default:
                raise TypeError(f"{name}: field {n!r} without a default follows field {seen_default!r} with one")
        ns["__slots__"] = tuple(own)
        ns["__match_args__"] = tuple(names)
        ns["_record_fields"] = tuple(names)
        ns["_record_defaults"] = defaults
        return super().__new__(mcs, name, bases, ns, **kw)


class Record(metaclass=RecordMeta):
    """Base of immutable data types: subclasses declare annotated fields (see the module doc)."""

    __slots__ = ()
    _record_fields: ClassVar[tuple[str, ...]]
    _record_defaults: ClassVar[dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = cls._record_fields
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given")
        setter = object.__setattr__
        for n, value in zip(names, args, strict=False):
            setter(self, n, value)
        if len(args) == len(names) and not kwargs:
            return
        defaults = cls._record_defaults
        for n in names[len(args):]:
            value = kwargs.pop(n, _MISSING)
            if value is _MISSING:
                value = defaults.get(n, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}() missing required argument: {n!r}")
            setter(self, n, value)
        if kwargs:
            extra = next(iter(kwargs))
            if extra in names:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {extra!r}")
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {extra!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._record_fields)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._record_fields)
        return f"{type(self).__qualname__}({body})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r} of {type(self).__name__} (records are immutable)")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r} of {type(self).__name__} (records are immutable)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())


def is_record(obj: object) -> bool:
    """Whether ``obj`` is a record class or a record instance."""
    return isinstance(obj, (RecordMeta, Record))


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The field names of a record class or instance, in declaration order (inherited ones first)."""
    if not is_record(record):
        raise TypeError(f"fields() needs a record class or instance, got {type(record).__name__}")
    return record._record_fields


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with the fields named in ``changes`` set to new values."""
    values = {n: getattr(record, n) for n in record._record_fields}
    for n in changes:
        if n not in values:
            raise TypeError(f"{type(record).__name__} has no field {n!r}")
    values.update(changes)
    return type(record)(**values)
