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
    return action is not None and action.nargs != 0


def split(argv: list[str], pod_parser: argparse.ArgumentParser, app_parser: argparse.ArgumentParser) -> SplitArgs:
    """Cut ``argv`` as the module doc says."""
    pod: list[str] = []
    apps: list[tuple[str, list[str], list[str] | None]] = []
    i = 0
    n = len(argv)
    while i < n and not apps:
        t = argv[i]
        if t == "--":
            raise argparse.ArgumentError(None, "arguments after -- need an image before them")
        if t.startswith("-") and t != "-":
            pod.append(t)
            if _takes_value(pod_parser, t) and i + 1 < n:
                pod.append(argv[i + 1])
                i += 1
            i += 1
            continue
        break
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
                flags.append(t)
                if _takes_value(app_parser, t) and i + 1 < n:
                    flags.append(argv[i + 1])
                    i += 1
                i += 1
                continue
            break
        apps.append((image, flags, args))
    return SplitArgs(pod, apps)
