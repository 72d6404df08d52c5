"""``rkt config``: print the merged configuration of every kind, and each flavor's settings, as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rkt.cli.context import GlobalOptions


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--pretty-print", nargs="?", const="true", default="true", choices=("true", "false"),
                   help="indent the output (default true)")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.config.effective import effective_config
    from rkt.config.paths import configured_data_dir
    from rkt.paths import DataDir

    explicit_dir = "dir" in gopts.explicit or bool(os.environ.get("RKT_DIR"))
    data = gopts.dir if explicit_dir else (configured_data_dir(gopts.config_dirs) or gopts.dir)
    cfg = effective_config(gopts.config_dirs, DataDir(data).cache, data)
    indent = 2 if args.pretty_print == "true" else None
    sys.stdout.write(json.dumps(cfg, indent=indent) + "\n")
    return 0
