"""rkt's command line for pods: ``[pod flags] IMAGE [app flags] [-- ARGS... ---] IMAGE ...``.

Flags before the first image belong to the pod (app flags given there apply to every
app). Flags after an image belong to that image's app; ``--`` starts the app's
arguments, which run until ``---`` or the end.
"""

from __future__ import annotations

import argparse

from rkt_sdk.record import Record


class SplitArgs(Record):
    """The command line cut into the pod's part and each app's part."""

    pod: list[str]
    apps: list[tuple[str, list[str], list[str] | None]]


def _takes_value(parser: argparse.ArgumentParser, token: str) -> bool:
    if "=" in token:
        return False
    action = parser._option_string_actions.get(token)
    return action is not None and action.nargs != 0 and getattr(action, "bare", None) is None


def _take_flags(argv: list[str], i: int, parser: argparse.ArgumentParser, out: list[str]) -> int:
    """Move the flags from ``argv[i]`` on (with the values they take) to ``out``; the index after them.

    Stops at ``--`` or at the first word that is not a flag.
    """
    n = len(argv)
    while i < n:
        t = argv[i]
        if t == "--" or t == "-" or not t.startswith("-"):
            break
        out.append(t)
        if _takes_value(parser, t) and i + 1 < n:
            out.append(argv[i + 1])
            i += 1
        i += 1
    return i


def split(argv: list[str], pod_parser: argparse.ArgumentParser, app_parser: argparse.ArgumentParser) -> SplitArgs:
    """Cut ``argv`` as the module doc says."""
    pod: list[str] = []
    apps: list[tuple[str, list[str], list[str] | None]] = []
    n = len(argv)
    i = _take_flags(argv, 0, pod_parser, pod)
    if i < n and argv[i] == "--":
        raise argparse.ArgumentError(None, "arguments after -- need an image before them")
    while i < n:
        image = argv[i]
        i += 1
        flags: list[str] = []
        args: list[str] | None = None
        while i < n:
            t = argv[i]
            if t == "--":
                args = []
                i += 1
                while i < n and argv[i] != "---":
                    args.append(argv[i])
                    i += 1
                if i < n:
                    i += 1
                break
            if t.startswith("-") and t != "-":
                i = _take_flags(argv, i, app_parser, flags)
                continue
            break
        apps.append((image, flags, args))
    return SplitArgs(pod, apps)
