"""``rkt stop UUID...``."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag

#: states of a pod that has run and stopped
AFTER_RUN = ("exited", "exited-garbage", "garbage", "deleting")


EXAMPLE = "rkt stop --force=true UUID"


def _seconds(text: str) -> float | None:
    """``--timeout``'s value; None when not given (the pod's recorded stop timeout applies)."""
    return float(text) if text else None


_seconds.__name__ = "float"

ARGS = (Arg("uuids", "pods to stop", nargs="*", metavar="UUID"),)
FLAGS = (
    bool_flag("--force", "forced stopping (kill at once)"),
    Flag("--uuid-file", "read pod UUID from file instead of argument", metavar="FILE"),
    Flag("--timeout", "seconds between SIGTERM and SIGKILL (default: the pod's stop timeout, 10s unless set at run)",
         convert=_seconds, metavar="SECONDS"),
)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import environment
    from rkt.pods.control import reported_running, stop_pod
    from rkt.pods.layout import find_pod, read_uuid_file
    from rkt_sdk.errors import RktError

    uuids = list(args.uuids)
    if args.uuid_file:
        uuids.append(read_uuid_file(args.uuid_file))
    if not uuids:
        raise RktError("must provide at least one pod UUID (or --uuid-file)")
    env = environment(gopts)
    ret = 0
    for u in uuids:
        try:
            ref = find_pod(env.data, u)
            state = ref.state()
            if state == "exited" and reported_running(ref, env.data, env.config_dirs):
                state = "running"  # its apps outlived the rkt process that ran them
            if state in AFTER_RUN:
                sys.stdout.write(f'pod "{ref.uuid}" is already stopped\n')
                continue
            if state != "running":
                raise RktError(f'pod "{ref.uuid}" is not running (state: {state})')
            stop_pod(ref, env, force=args.force, timeout=args.timeout)
            sys.stdout.write(f'"{ref.uuid}"\n')
        except RktError as e:
            sys.stderr.write(f"stop: error stopping {u!r}: {e}\n")
            ret = 254
    return ret
