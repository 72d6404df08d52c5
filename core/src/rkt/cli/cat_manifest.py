"""``rkt cat-manifest UUID``."""

from __future__ import annotations

import argparse
import json
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag

EXAMPLE = "rkt cat-manifest --pretty-print=false UUID"
ARGS = (Arg("uuid", "the pod", nargs="?", default="", metavar="UUID"),)
FLAGS = (
    bool_flag("--pretty-print", "apply indent to format the output", default=True),
    Flag("--uuid-file", "read pod UUID from file instead of argument", metavar="FILE"),
)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.pods.layout import find_pod, read_uuid_file
    from rkt_sdk.errors import RktError
    from rkt_sdk.poddir import PodDir

    uuid = read_uuid_file(args.uuid_file) if args.uuid_file else args.uuid
    if not uuid:
        raise RktError("must provide the pod UUID (or --uuid-file)")
    ref = find_pod(DataDir(gopts.dir), uuid)
    try:
        raw = json.loads(PodDir(ref.path).manifest_path.read_bytes())
    except FileNotFoundError:
        raise RktError(f'pod "{ref.uuid}" has no manifest yet (state: {ref.state()})') from None
    sys.stdout.write(json.dumps(raw, indent=2 if args.pretty_print else None) + "\n")
    return 0
