"""``rkt enter [--app=NAME] UUID [CMD [ARGS...]]``."""

from __future__ import annotations

import argparse

from rkt.cli.context import GlobalOptions


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--app", default="", help="name of the app to enter within the pod")
    p.add_argument("uuid", help="the running pod")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="command to run (default /bin/sh)")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import environment
    from rkt.pods.control import enter_pod

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    return enter_pod(args.uuid, args.app, tuple(cmd) or ("/bin/sh",), environment(gopts))
