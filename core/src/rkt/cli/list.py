"""``rkt list``.

The usual flags are read without building argparse's parser (which costs a few ms of a
command that must stay fast); anything else (``--help``, a typo, a bad value) goes through
the parser, so messages and exit codes are argparse's.
"""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions

#: the arguments are parsed here (see :func:`parse`), not by the dispatcher
RAW_ARGV = True

FORMATS = ("", "json", "json-pretty")


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--no-legend", action="store_true", help="suppress a legend with the list")
    p.add_argument("--full", action="store_true", help="use long output format")
    p.add_argument("--format", default="", choices=FORMATS, help="output format")


def _fast(argv: list[str]) -> argparse.Namespace | None:
    """The options when ``argv`` holds only well-formed usual flags; None otherwise."""
    ns = argparse.Namespace(no_legend=False, full=False, format="")
    it = iter(argv)
    for a in it:
        if a == "--no-legend":
            ns.no_legend = True
        elif a == "--full":
            ns.full = True
        elif a.startswith("--format="):
            ns.format = a[9:]
        elif a == "--format":
            ns.format = next(it, None)
        else:
            return None
        if ns.format not in FORMATS:
            return None
    return ns


def parse(argv: list[str]) -> argparse.Namespace:
    """``rkt list``'s options from its arguments (argparse's errors and help for anything unusual)."""
    ns = _fast(argv)
    if ns is not None:
        return ns
    from rkt.cli.parser import parse_command

    return parse_command("list", argv, add_arguments)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli import table, timefmt
    from rkt.paths import DataDir
    from rkt.pods.info import pod_info
    from rkt.pods.layout import iter_pods

    if hasattr(args, "argv"):
        args = parse(args.argv)
    brief = not args.format
    infos = [i for i in (pod_info(r, brief=brief) for r in iter_pods(DataDir(gopts.dir))) if i is not None]
    infos.sort(key=lambda i: i.created)
    if args.format:
        import json

        data = [i.to_json() for i in infos]
        sys.stdout.write(json.dumps(data, indent=2 if args.format == "json-pretty" else None) + "\n")
        return 0
    rows: list[list[str]] = []
    if not args.no_legend:
        rows.append(["UUID", "APP", "IMAGE NAME"] + (["IMAGE ID"] if args.full else [])
                    + ["STATE", "CREATED", "STARTED", "NETWORKS"])
    fmt = timefmt.absolute if args.full else timefmt.relative
    for i in infos:
        uuid = i.uuid if args.full else i.uuid[:8]
        apps = i.apps or ()
        if not apps:
            rows.append([uuid, "-", "-"] + (["-"] if args.full else []) + [i.state, fmt(i.created), fmt(i.started),
                                                                              i.networks_text()])
        for n, a in enumerate(apps):
            first = n == 0
            img_id = a.image_id if args.full else a.image_id[:19]
            rows.append([uuid if first else "", a.name, a.image_name] + ([img_id] if args.full else [])
                        + [i.state if first else "", fmt(i.created) if first else "",
                           fmt(i.started) if first else "", i.networks_text() if first else ""])
    sys.stdout.write(table.render(rows))
    return 0
