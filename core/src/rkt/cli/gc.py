"""``rkt gc``."""

from __future__ import annotations

import argparse

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Flag, bool_flag
from rkt.cli.parser import duration

EXAMPLE = "rkt gc --grace-period=0s --mark-only=false"
FLAGS = (
    Flag("--grace-period", "duration to wait before discarding inactive pods from garbage (default 30m0s)",
         default=1800.0, convert=duration, metavar="DURATION"),
    Flag("--expire-prepared", "duration to wait before expiring prepared pods (default 24h0m0s)",
         default=86400.0, convert=duration, metavar="DURATION"),
    bool_flag("--mark-only", "move exited/aborted pods to the garbage directories without deleting them"),
)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.pods.gc import gc

    gc(DataDir(gopts.dir), gopts.config_dirs, grace=args.grace_period, expire_prepared=args.expire_prepared,
       mark_only=args.mark_only)
    return 0
