"""Entry point of the ``rkt`` command.

Only the module of the command being run is imported: ``rkt list`` never pays for
``rkt run``'s imports. Each command module defines
``add_arguments(parser, command)`` and ``run(args, gopts) -> int``; modules with
subcommands (``image``) parse their own.
"""

from __future__ import annotations

import os
import sys

from rkt.cli.context import GlobalOptions, parse_global

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("rkt.cli.run", "Run image(s) in a pod"),
    "prepare": ("rkt.cli.run", "Prepare to run image(s) in a pod"),
    "run-prepared": ("rkt.cli.run_prepared", "Run a prepared pod"),
    "list": ("rkt.cli.list", "List pods"),
    "status": ("rkt.cli.status", "Check the status of a pod"),
    "stop": ("rkt.cli.stop", "Stop pods"),
    "enter": ("rkt.cli.enter", "Enter the namespaces of an app within a rkt pod"),
    "gc": ("rkt.cli.gc", "Garbage collect pods no longer in use"),
    "rm": ("rkt.cli.rm", "Remove all files and resources associated with an exited pod"),
    "cat-manifest": ("rkt.cli.cat_manifest", "Inspect and print the pod manifest"),
    "fetch": ("rkt.cli.fetch", "Fetch image(s) and store them in the local store"),
    "image": ("rkt.cli.image", "Operate on image(s) in the local store"),
    "flavors": ("rkt.cli.flavors", "List installed stage1 flavors and whether this host can run them"),
    "config": ("rkt.cli.config", "Print configuration for each stage in JSON format"),
    "version": ("rkt.cli.version", "Print the version and exit"),
}

USAGE = """\
NAME:
\trkt - rkt, the application container runner

USAGE:
\trkt [global options] <command> [command options] [arguments...]

COMMANDS:
{commands}

GLOBAL OPTIONS:
\t--debug                      print out more debug information to stderr
\t--dir=DIR                    rkt data directory (default /var/lib/rkt)
\t--insecure-options=LIST      comma-separated list of security features to disable
\t                             (none, image, tls, ondisk, http, pubkey, capabilities, paths,
\t                             seccomp, all-fetch, all-run, all)
\t--local-config=DIR           local configuration directory (default /etc/rkt)
\t--system-config=DIR          system configuration directory (default /usr/lib/rkt)
\t--user-config=DIR            user configuration directory
\t--trust-keys-from-https      automatically trust gpg keys fetched from https (ignored)
\t-h, --help                   show this help

Run 'rkt <command> --help' for more information on a command.
"""


def usage() -> str:
    width = max(len(c) for c in COMMANDS)
    return USAGE.format(commands="\n".join(f"\t{c.ljust(width)}  {h}" for c, (_, h) in COMMANDS.items()))


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the ``rkt`` command with ``argv`` (default ``sys.argv[1:]``) and exit."""
    args = sys.argv[1:] if argv is None else argv
    from rkt_sdk.errors import RktError

    try:
        gopts, rest = parse_global(args)
    except (ValueError, RktError) as e:
        sys.stderr.write(f"rkt: {e}\n")
        sys.exit(254)
    if not rest or rest[0] in ("-h", "--help", "help"):
        if len(rest) > 1 and rest[0] == "help":
            rest = [rest[1], "--help"]
        else:
            sys.stdout.write(usage())
            sys.exit(0 if rest or argv == [] else 254)
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

    from rkt.cli.parser import parse_command
    from rkt_sdk.errors import RktError

    mod = importlib.import_module(module)
    if getattr(mod, "RAW_ARGV", False):
        import argparse

        ns = argparse.Namespace(argv=cmd_args)
    else:
        ns = parse_command(name, cmd_args, mod.add_arguments)
    ns.command = name
    try:
        return int(mod.run(ns, gopts))
    except RktError as e:
        sys.stderr.write(f"{name}: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
