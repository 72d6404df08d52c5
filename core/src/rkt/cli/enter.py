"""``rkt enter [--app=NAME] UUID [CMD [ARGS...]]``.

Everything after the UUID is the command and its arguments, flags included: ``rkt enter UUID
/bin/ls --dir /x`` lists ``/x`` in the pod (:func:`command_start` tells the global options'
parser where to stop). With no command, rkt's default: ``/bin/bash`` where the app has it,
else ``/bin/sh``.
"""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag

#: the arguments are parsed here (see :func:`parse`), not by the dispatcher
RAW_ARGV = True
EXAMPLE = "rkt enter --app=hello UUID /bin/ps -ef"
ARGS = (Arg("uuid", "the running pod", metavar="UUID"),
        Arg("cmd", "command to run and its arguments (default /bin/bash, else /bin/sh)", nargs="...",
            metavar="CMD"))
FLAGS = (Flag("--app", "name of the app to enter within the pod", metavar="NAME"),)
#: rkt's default command: bash where the app has it, else sh
DEFAULT_COMMAND = ("/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh")


def command_start(argv: list[str], start: int, value_flags: tuple[str, ...] = ()) -> int:
    """The index in ``argv`` of the word after enter's UUID, looking from ``start``.

    Flags before the UUID are enter's (or global ones): those in :data:`FLAGS` and
    ``value_flags`` that take a value and are written without ``=`` take the next word.
    """
    takes_value = {f.name for f in FLAGS if f.bare is None} | set(value_flags)
    i, n = start, len(argv)
    while i < n:
        word = argv[i]
        i += 1
        if word == "--":
            return min(i + 1, n)
        if not word.startswith("-"):
            return i
        if word in takes_value:
            i += 1
    return n


def parse(argv: list[str]) -> argparse.Namespace:
    """enter's own flags and UUID through argparse; the words after the UUID as the command."""
    from rkt.cli.parser import parse_command

    cut = command_start(argv, 0)
    head, cmd = argv[:cut], argv[cut:]
    if "--" in head:
        head.remove("--")
    ns = parse_command("enter", head, sys.modules[__name__])
    ns.cmd = cmd
    return ns


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import environment
    from rkt.pods.control import enter_pod

    ns = parse(args.argv)
    return enter_pod(ns.uuid, ns.app, tuple(ns.cmd) or DEFAULT_COMMAND, environment(gopts))
