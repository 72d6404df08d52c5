"""``rkt list``.

The usual flags are read without building argparse's parser (which costs a few ms of a
command that must stay fast) by :func:`rkt.cli.options.fast_parse`, from the same declarations;
anything else (``--help``, a typo, a bad value) goes through the parser, so messages and exit
codes are argparse's.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Flag, bool_flag, fast_parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

#: the arguments are parsed here (see :func:`parse`), not by the dispatcher
RAW_ARGV = True

FORMATS = ("", "json", "json-pretty")
EXAMPLE = "rkt list --full --no-legend=false"
FLAGS = (
    bool_flag("--no-legend", "suppress a legend with the list"),
    bool_flag("--full", "use long output format"),
    Flag("--format", "output format", choices=FORMATS),
)


def parse(argv: list[str]) -> argparse.Namespace:
    """``rkt list``'s options from its arguments (argparse's errors and help for anything unusual)."""
    values = fast_parse(argv, FLAGS)
    if values is not None:
        return SimpleNamespace(**values)  # type: ignore[return-value]
    from rkt.cli.parser import parse_command

    return parse_command("list", argv, sys.modules[__name__])


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
