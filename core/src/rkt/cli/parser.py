"""argparse set up the way rkt's commands behave: rkt's exit code 254 on bad usage."""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, NoReturn


_width: list[int] = []
#: what a flag's value "--" is while argparse parses (no argument can hold a NUL)
_DASHES = "\0--"


def terminal_width() -> int:
    """Columns for help text, as ``shutil.get_terminal_size`` finds them (without importing shutil).

    ``$COLUMNS`` first, then the terminal on stdout, else 80; asked once per process (argparse
    makes a formatter for every argument added).
    """
    if not _width:
        try:
            _width.append(int(os.environ["COLUMNS"]))
        except (KeyError, ValueError):
            try:
                _width.append(os.get_terminal_size(sys.__stdout__.fileno()).columns)  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                _width.append(80)
    return _width[0]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized to the terminal without importing shutil (and bz2, lzma...).

    argparse makes a formatter for every ``add_argument``, and its own asks shutil for the width.
    A flag with a bare value shows as ``--flag[=VALUE]`` (see :mod:`rkt.cli.options`).
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_width() - 2 if width is None else width)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if getattr(action, "bare", None) is not None:
            return f"{action.option_strings[0]}[={action.metavar}]"
        return super()._format_action_invocation(action)


class RawDescriptionHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """:class:`HelpFormatter` that keeps the description's and epilog's line breaks."""


class RktArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 254 with a one-line message naming the flag.

    Flags with a bare value never take the next word (:func:`rkt.cli.options.expand_bare`).
    Its help (and its subcommands' help) is laid out by :class:`HelpFormatter` unless told otherwise.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        from rkt.cli.options import expand_bare

        argv = expand_bare(list(sys.argv[1:] if args is None else args), self._option_string_actions)
        # argparse drops a value of "--" (``--flag=--``) and stores an empty list: carry it through hidden
        argv = [a[:-2] + _DASHES if a.endswith("=--") and a[:-3] in self._option_string_actions else a
                for a in argv]
        ns, rest = super().parse_known_args(argv, namespace)
        for key, value in vars(ns).items():
            if value == _DASHES:
                setattr(ns, key, "--")
            elif isinstance(value, list) and _DASHES in value:
                setattr(ns, key, ["--" if v == _DASHES else v for v in value])
        return ns, rest

    def error(self, message: str) -> NoReturn:
        message = message.replace(repr(_DASHES), "'--'")
        sys.stderr.write(f"{self.prog}: {message} (see '{self.prog.removesuffix(' IMAGE')} --help')\n")
        sys.exit(254)


def make_parser(prog: str, summary: str, *, raw_description: bool = False, usage: str | None = None
                ) -> RktArgumentParser:
    """A parser for one command; ``raw_description`` keeps the epilog's layout."""
    formatter = RawDescriptionHelpFormatter if raw_description else HelpFormatter
    return RktArgumentParser(prog=prog, description=summary, formatter_class=formatter, usage=usage)


def usage_line(prog: str, flags: tuple[Any, ...], args: tuple[Any, ...]) -> str:
    """``PROG [flags] ARGS...`` from declarations (:class:`rkt.cli.options.Flag`, :class:`~rkt.cli.options.Arg`)."""
    words = [prog]
    if flags:
        words.append("[flags]")
    for a in args:
        meta = a.metavar or a.name.upper()
        words.append({None: meta, "?": f"[{meta}]", "*": f"[{meta}...]", "+": f"{meta}...",
                      "...": f"[{meta}...]"}.get(a.nargs, meta))
    return " ".join(words)


def usage_of(name: str, module: ModuleType) -> str | None:
    """``rkt NAME [flags] ARGS...`` from the command's declarations (None: argparse's, for subcommands)."""
    if hasattr(module, "SUBCOMMANDS"):
        return None
    return usage_line(f"rkt {name}", getattr(module, "FLAGS", ()), getattr(module, "ARGS", ()))


def command_parser(name: str, module: ModuleType) -> RktArgumentParser:
    """The full parser of ``rkt NAME`` from its module's ``FLAGS`` and ``ARGS``."""
    from rkt.cli.commands import COMMANDS
    from rkt.cli.options import add_args, add_flags

    summary = getattr(module, "DESCRIPTION", COMMANDS[name][1])
    parser = make_parser(f"rkt {name}", summary, usage=usage_of(name, module))
    add_args(parser, getattr(module, "ARGS", ()))
    add_flags(parser, getattr(module, "FLAGS", ()))
    extra = getattr(module, "add_arguments", None)  # commands with subcommands
    if extra is not None:
        extra(parser, name)
    return parser


def add_subcommands(parser: argparse.ArgumentParser, prog: str,
                    subcommands: dict[str, tuple[str, tuple[Any, ...], tuple[Any, ...]]]) -> None:
    """A command's subcommands (``rkt app``, ``rkt image``), each from its declarations: ``name ->
    (summary, args, flags)``."""
    from rkt.cli.options import add_args, add_flags

    sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    for name, (summary, args, flags) in subcommands.items():
        sp = sub.add_parser(name, help=summary, description=summary, usage=usage_line(f"{prog} {name}", flags, args))
        add_args(sp, args)
        add_flags(sp, flags)


def parse_command(name: str, argv: list[str], module: ModuleType) -> argparse.Namespace:
    """``rkt NAME``'s options from ``argv`` through a full parser: argparse's help and errors."""
    return command_parser(name, module).parse_args(argv)


def duration(text: str) -> float:
    """Parse a Go-style duration (``30m``, ``1h30m``, ``10s``, ``500ms``, ``0``) into seconds."""
    import re

    if text in ("0", ""):
        return 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (examples: 30s, 10m, 1h30m)")
    return sum(float(n) * units[u] for n, u in parts)
