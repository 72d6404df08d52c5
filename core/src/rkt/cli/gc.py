"""``rkt gc``."""

from __future__ import annotations

import argparse

from rkt.cli.context import GlobalOptions
from rkt.cli.parser import duration


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--grace-period", type=duration, default=1800.0,
                   help="duration to wait before discarding inactive pods from garbage (default 30m0s)")
    p.add_argument("--expire-prepared", type=duration, default=86400.0,
                   help="duration to wait before expiring prepared pods (default 24h0m0s)")
    p.add_argument("--mark-only", action="store_true",
                   help="move exited/aborted pods to the garbage directories without deleting them")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.pods.gc import gc

    gc(DataDir(gopts.dir), gopts.config_dirs, grace=args.grace_period, expire_prepared=args.expire_prepared,
       mark_only=args.mark_only)
    return 0
