"""``rkt attach [--mode=...] UUID --app=NAME``: the caller's terminal or stdio to a running app's streams.

The app must have been added with ``--stdin``/``--stdout``/``--stderr`` in ``stream`` or ``tty`` mode.
On a terminal, the detach key sequence (``--detach-keys``, default ctrl-p,ctrl-q) leaves the app
running; otherwise ``rkt attach`` ends with the app, with its exit code.
"""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag

EXAMPLE = "rkt attach --app=shell UUID"
ARGS = (Arg("uuid", "the sandbox pod (UUID or unique prefix)", metavar="UUID"),)
FLAGS = (
    Flag("--app", "name of the app to attach to", metavar="NAME"),
    Flag("--mode", "what to attach: auto (the app's own modes), stdin,stdout,stderr (any of them), or list",
         default="auto", metavar="MODE"),
    Flag("--detach-keys", "keys that detach on a terminal", default="ctrl-p,ctrl-q", metavar="KEYS"),
)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import environment
    from rkt.podflow.apps import app_status, attach_app
    from rkt_sdk.attach import parse_detach_keys
    from rkt_sdk.errors import RktError

    if not args.app:
        raise RktError("--app=NAME is required")
    env = environment(gopts)
    st = app_status(env, args.uuid, args.app).to_json()
    modes = {k: st.get(k, "") for k in ("stdin", "stdout", "stderr")}
    if args.mode == "list":
        sys.stdout.write(",".join(k for k, v in modes.items() if v in ("stream", "tty")) + "\n")
        return 0
    wanted = set(args.mode.split(",")) if args.mode != "auto" else {k for k, v in modes.items() if v != "null"}
    unknown = wanted - set(modes)
    if unknown:
        raise RktError(f"--mode={args.mode}: expected auto, list, or stdin,stdout,stderr")
    try:
        keys = parse_detach_keys(args.detach_keys)
    except ValueError as e:
        raise RktError(str(e)) from None
    sys.stdout.flush()
    return attach_app(env, args.uuid, args.app, stdin="stdin" in wanted and modes["stdin"] != "null",
                      detach_keys=keys)
