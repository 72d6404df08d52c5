"""``rkt status UUID``.

The usual arguments are read without building argparse's parser (a few ms of a command run in
loops) by :func:`rkt.cli.options.fast_parse`, from the same declarations; anything else goes
through the parser, with its messages and exit codes. A bare ``--wait`` (or ``--wait-ready``)
means "until it happens" and never takes the next word: ``rkt status --wait UUID``.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, fast_parse

TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse

    from rkt.pods.layout import PodRef


def _wait_value(text: str) -> float | None:
    """``true`` (-1: no limit), ``false`` (None: do not wait) or a duration in seconds."""
    if text in ("true", ""):
        return -1.0
    if text == "false":
        return None
    from rkt.cli.parser import duration

    return duration(text)


def _wait_flag(flag: str, text: str) -> float | None:
    if text in ("true", "", "false"):
        return _wait_value(text)
    import argparse

    from rkt_sdk.errors import RktError

    try:
        return _wait_value(text)
    except argparse.ArgumentTypeError as e:
        raise RktError(f"--{flag}={text}: {e}") from None


#: the arguments are parsed here (see :func:`parse`), not by the dispatcher
RAW_ARGV = True

FORMATS = ("", "json", "json-pretty")
EXAMPLE = "rkt status --wait=30s UUID"
ARGS = (Arg("uuid", "the pod's UUID (or a unique prefix)", nargs="?", default="", metavar="UUID"),)
FLAGS = (
    Flag("--uuid-file", "read pod UUID from file instead of argument", metavar="FILE"),
    Flag("--wait", "wait for the pod to exit (true, false, or at most this long, e.g. 10s)", default="false",
         bare="true", metavar="true|false|DURATION"),
    Flag("--wait-ready", "wait until the pod runs (true, false, or at most this long)", default="false",
         bare="true", metavar="true|false|DURATION"),
    Flag("--format", "output format", choices=FORMATS),
)


def parse(argv: list[str]) -> argparse.Namespace:
    """``rkt status``'s options from its arguments (argparse's errors and help for anything unusual)."""
    values = fast_parse(argv, FLAGS, "uuid")
    if values is not None:
        return SimpleNamespace(**values)  # type: ignore[return-value]
    from rkt.cli.parser import parse_command

    return parse_command("status", argv, sys.modules[__name__])


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    import time

    from rkt.paths import DataDir
    from rkt.pods.info import pod_info
    from rkt.pods.layout import find_pod, read_uuid_file
    from rkt.pods.lock import wait_unlocked
    from rkt_sdk.errors import RktError

    if hasattr(args, "argv"):
        args = parse(args.argv)
    uuid = read_uuid_file(args.uuid_file) if args.uuid_file else args.uuid
    if not uuid:
        raise RktError("must provide the pod UUID (or --uuid-file)")
    data = DataDir(gopts.dir)
    wait = _wait_flag("wait", args.wait)
    ready = _wait_flag("wait-ready", args.wait_ready)
    ref = find_pod(data, uuid)
    if ready is not None:
        deadline = None if ready < 0 else time.monotonic() + ready
        while ref.state() in ("embryo", "preparing", "prepared") or (ref.state() == "running" and not
                                                                    (ref.path / "pid").exists()):
            if deadline is not None and time.monotonic() > deadline:
                raise RktError(f'pod "{ref.uuid}" is not ready after {args.wait_ready}')
            time.sleep(0.05)
            ref = find_pod(data, ref.uuid)
    if wait is not None:
        if not wait_unlocked(ref.path, None if wait < 0 else wait):
            raise RktError(f'pod "{ref.uuid}" still running after {args.wait}')
        ref = find_pod(data, ref.uuid)
    info = pod_info(ref)
    if info is None:
        raise RktError(f'pod "{uuid}" disappeared')
    extras = _flavor_extras(ref, gopts) if info.state not in ("embryo", "preparing", "prepared") else {}
    if info.state == "exited" and ref.dir_state == "run" and extras.get("running") is True:
        info = info._replace(state="running")  # the apps outlived the rkt process that held the lock
    if args.format:
        doc = info.to_json()
        if extras:
            doc["stage1_status"] = extras
        sys.stdout.write(json.dumps(doc, indent=2 if args.format == "json-pretty" else None) + "\n")
        return 0
    from rkt.cli.timefmt import absolute

    lines = [f"state={info.state}", f"created={absolute(info.created)}"]
    if info.started:
        lines.append(f"started={absolute(info.started)}")
    if info.state in ("running", "exited"):
        lines.append(f"networks={info.networks_text()}")
    if info.state in ("running", "deleting", "exited", "exited-garbage"):
        if info.pid is not None:
            lines.append(f"pid={info.pid}")
        lines.append(f"exited={'true' if info.state in ('exited', 'exited-garbage') else 'false'}")
        if info.state != "running":
            for a in info.apps:
                if a.exit_code is not None:
                    lines.append(f"app-{a.name}={a.exit_code}")
    lines += [f"{k}={v}" for k, v in extras.items()]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _flavor_extras(ref: PodRef, gopts: GlobalOptions) -> dict[str, object]:
    """The flavor's ``rkt_stage1_status`` fields, for pods whose flavor implements it (never fatal)."""
    from pathlib import Path

    from rkt.paths import DataDir
    from rkt.pods.control import flavor_status

    try:
        return flavor_status(Path(ref.path), ref.uuid, DataDir(gopts.dir), gopts.config_dirs)
    except Exception as e:  # a flavor's bug must not break status
        sys.stderr.write(f"status: warning: stage1 status of the pod unavailable: {e}\n")
        return {}
