"""``rkt list``."""

from __future__ import annotations

import argparse
import json
import sys

from rkt.cli.context import GlobalOptions


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--no-legend", action="store_true", help="suppress a legend with the list")
    p.add_argument("--full", action="store_true", help="use long output format")
    p.add_argument("--format", default="", choices=("", "json", "json-pretty"), help="output format")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli import table, timefmt
    from rkt.paths import DataDir
    from rkt.pods.info import pod_info
    from rkt.pods.layout import iter_pods

    infos = [i for i in (pod_info(r) for r in iter_pods(DataDir(gopts.dir))) if i is not None]
    infos.sort(key=lambda i: i.created)
    if args.format:
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
