"""``rkt run-prepared UUID``."""

from __future__ import annotations

import argparse

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, bool_flag
from rkt.cli.podflags import INTERACTIVE, NETWORK_FLAGS

EXAMPLE = "rkt run-prepared --net=host --hosts-entry=10.0.0.5=db UUID"
ARGS = (Arg("uuid", "UUID of a pod made by 'rkt prepare'", metavar="UUID"),)
FLAGS = (INTERACTIVE, *NETWORK_FLAGS, bool_flag("--mds-register", "register with the metadata service", hidden=True))


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.apps.request import PodRequest
    from rkt.cli.podflags import network_fields
    from rkt.cli.request import environment
    from rkt.podflow.start import run_prepared

    req = PodRequest(apps=(), interactive=args.interactive, **network_fields(args))
    return run_prepared(args.uuid, req, environment(gopts))
