"""``rkt config``: print the merged configuration of every kind, and each flavor's settings, as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import bool_flag

EXAMPLE = "rkt config --pretty-print=false"
FLAGS = (bool_flag("--pretty-print", "indent the output", default=True),)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.config.effective import effective_config
    from rkt.config.paths import configured_data_dir
    from rkt.paths import DataDir
    from rkt.stage1.report import stage1_entries

    explicit_dir = "dir" in gopts.explicit or bool(os.environ.get("RKT_DIR"))
    data = gopts.dir if explicit_dir else (configured_data_dir(gopts.config_dirs) or gopts.dir)
    cfg = effective_config(gopts.config_dirs, stage1_entries(gopts.config_dirs, DataDir(data).cache), data)
    indent = 2 if args.pretty_print else None
    sys.stdout.write(json.dumps(cfg, indent=indent) + "\n")
    return 0
