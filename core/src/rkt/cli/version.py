"""``rkt version``."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Flag

FLAGS = (Flag("--format", "output format", choices=("", "json")),)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt import __version__
    from rkt_sdk import INTERFACE_VERSION

    info = {"rkt": __version__, "appc": "0.8.11", "stage1Interface": INTERFACE_VERSION,
            "python": ".".join(map(str, sys.version_info[:3]))}
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(info) + "\n")
    else:
        sys.stdout.write(f"rkt Version: {__version__}\nappc Version: 0.8.11\nStage1 Interface Version: "
                         f"{INTERFACE_VERSION}\nPython Version: {info['python']}\n")
    return 0
