"""Entry point of the ``rkt`` command.

Only the module of the command being run is imported: ``rkt list`` never pays for
``rkt run``'s imports. ``rkt app start`` and ``rkt app add`` are first offered to :mod:`rkt.cli.quick`, which
imports next to nothing. The commands and what each module defines are in
:mod:`rkt.cli.commands`; their flags are declared as :mod:`rkt.cli.options` describes.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from rkt.cli.context import GlobalOptions

USAGE = """\
NAME:
\trkt - rkt, the application container runner

USAGE:
\trkt [global options] <command> [command options] [arguments...]

COMMANDS:
{commands}

GLOBAL OPTIONS:
{options}
\t-h, --help                   show this help

Run 'rkt <command> --help' for more information on a command.
"""


def usage() -> str:
    """``rkt --help``: the commands and the global options, from their declarations."""
    import textwrap

    from rkt.cli.commands import COMMANDS
    from rkt.cli.context import GLOBAL_FLAGS

    width = max(len(c) for c in COMMANDS)
    options = []
    for f in GLOBAL_FLAGS:
        left = f"{f.name}[=true|false]" if f.kind == "bool" else f"{f.name}={f.metavar}"
        lines = textwrap.wrap(f.help, 70)
        if len(left) > 28:
            options.append(f"\t{left}")
            left = ""
        options.append(f"\t{left.ljust(28)} {lines[0]}")
        options += [f"\t{'':28} {line}" for line in lines[1:]]
    return USAGE.format(commands="\n".join(f"\t{c.ljust(width)}  {h}" for c, (_, h) in COMMANDS.items()),
                        options="\n".join(options))


def _verbatim_from(command: str, argv: list[str], start: int) -> int:
    """Where the words that are no longer global options start: ``enter``'s command keeps its flags."""
    if command != "enter":
        return len(argv)
    from rkt.cli.context import VALUE_FLAGS
    from rkt.cli.enter import command_start

    return command_start(argv, start, VALUE_FLAGS)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the ``rkt`` command with ``argv`` (default ``sys.argv[1:]``) and exit."""
    args = sys.argv[1:] if argv is None else argv
    if "app" in args:
        from rkt.cli import quick

        status = quick.run(args)
        if status is not None:
            sys.exit(status)
    from rkt.cli.commands import COMMANDS
    from rkt.cli.context import parse_global
    from rkt_sdk.errors import RktError

    try:
        gopts, rest = parse_global(args, _verbatim_from)
    except (ValueError, RktError) as e:
        sys.stderr.write(f"rkt: {e}\n")
        sys.exit(254)
    if not rest:
        sys.stderr.write(usage())
        sys.exit(2)
    if rest[0] in ("-h", "--help", "help"):
        if len(rest) > 1 and rest[0] == "help":
            rest = [rest[1], "--help"]
        else:
            sys.stdout.write(usage())
            sys.exit(0)
    name, cmd_args = rest[0], rest[1:]
    entry = COMMANDS.get(name)
    if entry is None:
        sys.stderr.write(f'rkt: unknown command "{name}"\nRun \'rkt --help\' for usage.\n')
        sys.exit(254)
    sys.exit(dispatch(name, entry[0], cmd_args, gopts))


def console() -> NoReturn:
    """The ``rkt`` console script: :func:`main`, then leave without the interpreter's teardown.

    A command's work is done when :func:`main` exits; what remains of a normal exit is a
    garbage collection and module teardown that cost a short-lived process 10-20 ms. Output is
    flushed first, and rkt registers no ``atexit`` handlers, so nothing is lost.
    """
    try:
        main()
    except SystemExit as e:
        code = e.code
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(status)


def dispatch(name: str, module: str, cmd_args: list[str], gopts: GlobalOptions) -> int:
    """Parse a command's arguments, run it, and turn rkt's errors into one line and 254."""
    import importlib

    from rkt_sdk.errors import RktError

    mod = importlib.import_module(module)
    if getattr(mod, "RAW_ARGV", False):  # parses its own arguments (list, status: without argparse)
        from types import SimpleNamespace

        ns: Any = SimpleNamespace(argv=cmd_args)
    else:
        from rkt.cli.parser import parse_command

        ns = parse_command(name, cmd_args, mod)
    ns.command = name
    try:
        return int(mod.run(ns, gopts))
    except RktError as e:
        sys.stderr.write(f"{name}: {e}\n")
        return e.exit_code
    except (UnicodeEncodeError, UnicodeDecodeError) as e:  # an argument's bytes that are not UTF-8 reached a text file
        sys.stderr.write(f"{name}: a value is not valid UTF-8 text ({e.reason})\n")
        return 254
    except RecursionError:  # JSON (or other input) nested deeper than any parser goes
        sys.stderr.write(f"{name}: input nested too deeply to be parsed\n")
        return 254
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
