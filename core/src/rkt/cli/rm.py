"""``rkt rm UUID...``."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag

EXAMPLE = "rkt rm UUID"
ARGS = (Arg("uuids", "pods to remove", nargs="*", metavar="UUID"),)
FLAGS = (Flag("--uuid-file", "read pod UUID from file instead of argument", metavar="FILE"),)

def _say(message: str) -> None:
    sys.stderr.write(f"rm: {message}\n")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.pods.gc import remove
    from rkt.pods.layout import find_pod, read_uuid_file
    from rkt_sdk.errors import RktError

    data = DataDir(gopts.dir)
    uuids = list(args.uuids)
    ret = 0
    if args.uuid_file:
        try:
            uuids.append(read_uuid_file(args.uuid_file))
        except RktError as e:
            sys.stderr.write(f"rm: unable to resolve UUID from file: {e}\n")
            ret = 254
    elif not uuids:
        sys.stderr.write("rm: must provide at least one pod UUID (or --uuid-file) (see 'rkt rm --help')\n")
        return 254
    for u in uuids:
        try:
            ref = find_pod(data, u)
        except RktError as e:
            sys.stderr.write(f"rm: cannot get pod: {e}\n")
            ret = 254
            continue
        if remove(ref, data, gopts.config_dirs, err=_say):
            sys.stdout.write(f'"{ref.uuid}"\n')
        else:
            ret = 254
    if ret:
        sys.stderr.write("rm: failed to remove one or more pods\n")
    return ret
