"""The flags of rkt's commands, declared once: what argparse, the fast paths, completion and docs read.

A command module lists its flags as :class:`Flag` records (``FLAGS``) and its positional
arguments as :class:`Arg` records (``ARGS``). From them:

- :func:`add_flags` builds the argparse arguments (help, errors, ``--help``);
- :func:`fast_parse` reads the usual arguments of ``list``, ``status`` and ``app`` without argparse
  (it gives up, returning None, on anything it does not know, and argparse takes over);
- completion scripts and ``docs/commands.md`` list them.

Flags follow Go's flag package, as rkt's did: a flag with a ``bare`` value (every boolean,
``--net``) takes a value only as ``--flag=VALUE`` and a bare ``--flag`` means ``--flag=<bare>``,
so it never takes the next word; other flags take ``--flag=VALUE`` or ``--flag VALUE``.
Booleans accept ``true``/``false`` (and Go's ``1``, ``t``, ``T``, ``TRUE``, ``True`` and the
false ones).

This module imports nothing beyond the record type: ``rkt list`` loads it.
"""

from __future__ import annotations

from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable
    from typing import Any

TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


class Flag(Record):
    """One flag of a command.

    ``kind``: ``bool``, ``value`` (the last one given wins) or ``list`` (each one given is kept,
    in order). ``bare``: what a bare ``--flag`` stands for (``"true"`` for booleans); None when
    the flag needs a value. ``convert``: a function from the text to the value (argparse's
    ``type``); ``hidden`` flags are accepted and not shown.
    """

    name: str
    help: str = ""
    kind: str = "value"
    default: Any = None
    metavar: str = ""
    choices: tuple[str, ...] = ()
    bare: str | None = None
    convert: Any = None
    hidden: bool = False

    @property
    def dest(self) -> str:
        """The attribute the parsed value lands in: ``--no-overlay`` -> ``no_overlay``."""
        return self.name[2:].replace("-", "_")

    @property
    def initial(self) -> Any:
        """The value when the flag is not given."""
        if self.default is not None:
            return self.default
        return {"bool": False, "list": [], "value": ""}[self.kind]


class Arg(Record):
    """One positional argument: ``nargs`` as argparse's (None: exactly one)."""

    name: str
    help: str = ""
    nargs: str | None = None
    default: Any = None
    metavar: str = ""
    choices: tuple[str, ...] = ()


def boolean(flag: str, text: str) -> bool:
    """``text`` as Go's ``strconv.ParseBool`` reads it.

    :raises ValueError: naming the flag and the value.
    """
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{flag}={text}: expected true or false")


def bool_flag(name: str, help: str, default: bool = False, hidden: bool = False) -> Flag:
    """A boolean flag: ``--name``, ``--name=true``, ``--name=false``."""
    return Flag(name, help, kind="bool", default=default, bare="true", hidden=hidden)


def _arg_type(flag: Flag) -> Callable[[str], Any] | None:
    import argparse

    if flag.kind == "bool":
        def to_bool(text: str) -> bool | None:
            if not text:  # argparse converts a string default: "" is "not given"
                return None
            try:
                return boolean(flag.name, text)
            except ValueError:
                raise argparse.ArgumentTypeError("expected true or false") from None
        to_bool.__name__ = "boolean"
        return to_bool
    return flag.convert  # type: ignore[no-any-return]


def _help(flag: Flag) -> str:
    import argparse

    if flag.hidden:
        return argparse.SUPPRESS
    text = flag.help.replace("%", "%%")
    if flag.kind == "bool" and flag.default:
        text += " (default true)"
    return text


def add_flags(parser: argparse.ArgumentParser | Any, flags: Iterable[Flag]) -> None:
    """Add ``flags`` to ``parser`` (an ArgumentParser or an argument group)."""
    for f in flags:
        kw: dict[str, Any] = {"dest": f.dest, "help": _help(f), "default": f.initial}
        if f.kind == "list":
            kw["action"] = "append"
            kw["default"] = []
        conv = _arg_type(f)
        if conv is not None:
            kw["type"] = conv
        if f.choices:
            kw["choices"] = f.choices
        if f.metavar:
            kw["metavar"] = f.metavar
        elif f.bare is not None:
            kw["metavar"] = "true|false" if f.kind == "bool" else "VALUE"
        action = parser.add_argument(f.name, **kw)
        action.bare = f.bare  # type: ignore[union-attr]


def add_args(parser: argparse.ArgumentParser, args: Iterable[Arg]) -> None:
    """Add positional ``args`` to ``parser``."""
    for a in args:
        kw: dict[str, Any] = {"help": a.help}
        if a.nargs is not None:
            kw["nargs"] = a.nargs
        if a.default is not None:
            kw["default"] = a.default
        if a.metavar:
            kw["metavar"] = a.metavar
        if a.choices:
            kw["choices"] = a.choices
        parser.add_argument(a.name, **kw)


def expand_bare(argv: list[str], actions: dict[str, Any]) -> list[str]:
    """``argv`` with each bare flag that has a ``bare`` value written out as ``--flag=<bare>``.

    ``actions`` maps option strings to argparse actions (``parser._option_string_actions``);
    the words after a flag that takes a separate value are skipped, as is everything after ``--``.
    """
    out: list[str] = []
    i, n = 0, len(argv)
    while i < n:
        word = argv[i]
        if word == "--":
            out.extend(argv[i:])
            break
        action = actions.get(word)
        bare = getattr(action, "bare", None)
        if bare is not None:
            out.append(f"{word}={bare}")
        else:
            out.append(word)
            if action is not None and action.nargs is None and i + 1 < n:
                out.append(argv[i + 1])
                i += 1
        i += 1
    return out


#: what :func:`_fast_value` returns for text the flag refuses
_NO = object()


def _fast_value(f: Flag, text: str) -> Any:
    """``text`` as argparse would store it for flag ``f`` (through its type); ``_NO`` if refused."""
    if f.kind == "bool":
        return text in TRUE if text in TRUE or text in FALSE else _NO
    if f.convert is None:
        return text
    try:
        return f.convert(text)
    except Exception:
        return _NO


def fast_parse(argv: list[str], flags: Iterable[Flag], positional: str | tuple[str, ...] = ""
               ) -> dict[str, Any] | None:
    """The values of ``flags`` (and of the ``positional`` arguments, in order) in ``argv``, without argparse.

    ``positional``: one name (the argument may be left out: its value is then ``""``) or a
    tuple of names (each required). None when ``argv`` holds anything else (an unknown flag, a
    bad value, ``--help``, a positional word too many or too few): the caller then parses
    through argparse, for its messages and exit codes.
    """
    by_name = {f.name: f for f in flags}
    values: dict[str, Any] = {}
    for flag in by_name.values():  # as argparse does, a default given as text goes through the flag's type
        value = flag.initial
        if isinstance(value, str) and flag.kind != "list" and (flag.kind == "bool" or flag.convert is not None):
            value = None if flag.kind == "bool" and not value else _fast_value(flag, value)
            if value is _NO:
                return None
        values[flag.dest] = value
    names = (positional,) if isinstance(positional, str) else positional
    names = tuple(p for p in names if p)
    for name in names:
        values[name] = ""
    given = 0
    i, n = 0, len(argv)
    while i < n:
        word = argv[i]
        i += 1
        if not word.startswith("-"):
            if given >= len(names) or not word:
                return None
            values[names[given]] = word
            given += 1
            continue
        name, eq, text = word.partition("=")
        f = by_name.get(name)
        if f is None:
            return None
        if not eq:
            if f.bare is not None:
                text = f.bare
            elif i < n:
                text = argv[i]
                i += 1
            else:
                return None
        if f.choices and text not in f.choices:
            return None
        value = _fast_value(f, text)
        if value is _NO:
            return None
        if f.kind == "list":
            values[f.dest] = [*values[f.dest], value]
        else:
            values[f.dest] = value
    if isinstance(positional, tuple) and given < len(names):
        return None
    return values
