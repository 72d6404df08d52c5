"""``rkt app sandbox|add|start|stop|rm|list|status``: mutable pods (see :mod:`rkt.podflow.apps`).

``RKT_EXPERIMENT_APP`` (rkt's switch for these commands) is accepted and not needed.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag, fast_parse
from rkt.cli.podflags import APP_FLAGS, NETWORK_FLAGS, POD_FLAGS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from pathlib import Path

    from rkt.paths import Environment

#: the arguments are parsed here: what follows ``--`` in ``app add`` is the app's (argparse's
#: subcommands would take it for flags)
RAW_ARGV = True
EXAMPLE = "rkt app add UUID example.com/redis --name=redis --stdout=stream && rkt app start UUID --app=redis"
UUID = Arg("uuid", "the sandbox pod (UUID or unique prefix)", metavar="UUID")
APP = Flag("--app", "name of the app", metavar="NAME")
FORMAT = Flag("--format", "output format: json or json-pretty (default: a table)", choices=("", "json", "json-pretty"))
STDIO_FLAGS = (
    Flag("--stdin", "the app's stdin: null, stream or tty", default="null", choices=("null", "stream", "tty")),
    Flag("--stdout", "the app's stdout: null, log, stream or tty", default="log",
         choices=("null", "log", "stream", "tty")),
    Flag("--stderr", "the app's stderr: null, log, stream or tty", default="log",
         choices=("null", "log", "stream", "tty")),
)
SANDBOX_FLAGS = (*(f for f in POD_FLAGS if f.name != "--pod-manifest"), *NETWORK_FLAGS,
                 Flag("--annotation", "annotate the pod", kind="list", metavar="K=V"))
TIMEOUT = Flag("--timeout", "seconds between SIGTERM and SIGKILL", default=10.0, convert=float, metavar="SECONDS")
#: what ``rkt app add`` loads: the app server loads it once, before it serves, so that no worker has to
SERVER_WARM = ("rkt.cli.app", "rkt.cli.request", "rkt.podflow.apps", "rkt.store", "rkt.store.refs",
               "rkt.trust.policy", "rkt.apps.manifest", "rkt.pods.rootfs", "rkt.filelock", "rkt_sdk.appcontrol",
               "rkt_sdk.linux.caps", "rkt_sdk.linux.creds", "rkt_sdk.linux.mount", "rkt_sdk.quantities",
               "rkt_sdk.resolved", "rkt_sdk.stopsignal")
#: The description ``rkt app --help`` prints (the subcommands are listed below it).
DESCRIPTION = "Operate on the apps of a mutable pod"
#: subcommand -> (summary, positional arguments, flags)
SUBCOMMANDS: dict[str, tuple[str, tuple[Arg, ...], tuple[Flag, ...]]] = {
    "sandbox": ("Create an empty pod application sandbox (stays in the foreground until stopped)", (), SANDBOX_FLAGS),
    "add": ("Add an app to a running sandbox (it starts with 'rkt app start')",
            (UUID, Arg("image", "image id, name[:version] or file (arguments for the app after --)",
                       metavar="IMAGE")),
            (*APP_FLAGS, *STDIO_FLAGS)),
    "start": ("Start an app of a sandbox", (UUID,), (APP,)),
    "stop": ("Stop an app of a sandbox (SIGTERM, then SIGKILL after --timeout)", (UUID,),
             (APP, TIMEOUT, bool_flag("--force", "kill at once"))),
    "rm": ("Remove an app from a sandbox (stopping it first)", (UUID,), (APP, TIMEOUT)),
    "list": ("List the apps of a sandbox", (UUID,),
             (FORMAT, bool_flag("--no-legend", "suppress a legend with the list"),
              bool_flag("--full", "use long output format"))),
    "status": ("Show the status of an app of a sandbox", (UUID,), (APP, FORMAT)),
    "reopen-log": ("Open an app's log file again by its name (after a log rotator moved it)", (UUID,), (APP,)),
}


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    """The subcommands, each from its declarations in :data:`SUBCOMMANDS`."""
    from rkt.cli.parser import add_subcommands

    add_subcommands(p, f"rkt {command}", SUBCOMMANDS)


def _parse(argv: list[str]) -> argparse.Namespace:
    """One subcommand's flags: the usual arguments without argparse (:func:`rkt.cli.options.fast_parse`),
    anything else through a parser of that subcommand only (``rkt app --help`` lists them all)."""
    name = argv[0] if argv else ""
    if name in SUBCOMMANDS:
        summary, positional, flags = SUBCOMMANDS[name]
        values = fast_parse(argv[1:], flags, tuple(a.name for a in positional))
        if values is not None:
            return SimpleNamespace(subcommand=name, **values)  # type: ignore[return-value]
    from rkt.cli.options import add_args, add_flags
    from rkt.cli.parser import make_parser, parse_command, usage_line

    if name not in SUBCOMMANDS:
        return parse_command("app", argv, sys.modules[__name__])  # argparse's help or error
    p = make_parser(f"rkt app {name}", summary, usage=usage_line(f"rkt app {name}", flags, positional))
    add_args(p, positional)
    add_flags(p, flags)
    ns = p.parse_args(argv[1:])
    ns.subcommand = name
    return ns


def _environment(gopts: GlobalOptions) -> Environment:
    from rkt.paths import DataDir, Environment

    return Environment(DataDir(gopts.dir), gopts.config_dirs, gopts.insecure_options, gopts.debug)


def run(raw: argparse.Namespace, gopts: GlobalOptions) -> int:
    argv = list(raw.argv)
    tail = None
    if "--" in argv:
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1:]
    args = _parse(argv)
    args.args = tail
    if args.subcommand not in ("sandbox", "add", "list") and not args.app:
        from rkt_sdk.errors import RktError

        raise RktError("--app=NAME is required")
    handler = globals()["_run_" + args.subcommand.replace("-", "_")]
    return int(handler(args, _environment(gopts)))


def _run_sandbox(args: argparse.Namespace, env: Environment) -> int:
    from rkt.apps import flags as F
    from rkt.cli.request import make_request
    from rkt.podflow.apps import sandbox
    from rkt_sdk.record import replace

    args.pod_manifest = ""
    req = make_request(args, [], "run")
    req = replace(req, annotations=tuple(F.annotation("annotation", v) for v in args.annotation))
    sys.stdout.flush()
    return sandbox(req, env, serve_apps)


def serve_apps(pod_path: Path) -> Callable[[], None]:
    """Have this sandbox's process run the callers' ``rkt app add`` (see :mod:`rkt.podflow.appserver`)."""
    from rkt.podflow.appserver import serve_in_background

    return serve_in_background(pod_path, _become_command, SERVER_WARM)


def _become_command(argv: list[str]) -> None:
    """In a worker of the app server: run ``rkt argv`` here (it must not ask the server again), then exit."""
    from rkt.cli import quick
    from rkt.cli.main import console

    quick.SERVED = True
    console()


def _run_add(args: argparse.Namespace, env: Environment) -> int:
    from rkt.cli.request import app_request
    from rkt.podflow.apps import add_app
    from rkt_sdk.appio import IOModeError, check_modes
    from rkt_sdk.errors import RktError

    try:
        modes = check_modes(args.stdin, args.stdout, args.stderr)
    except IOModeError as e:
        raise RktError(str(e)) from None
    add_app(env, args.uuid, app_request(args), modes)
    return 0


def _run_start(args: argparse.Namespace, env: Environment) -> int:
    from rkt.podflow.apps import start_app

    start_app(env, args.uuid, args.app)
    return 0


def _run_stop(args: argparse.Namespace, env: Environment) -> int:
    from rkt.podflow.apps import stop_app

    stop_app(env, args.uuid, args.app, force=args.force, timeout=args.timeout)
    return 0


def _run_rm(args: argparse.Namespace, env: Environment) -> int:
    from rkt.podflow.apps import rm_app

    rm_app(env, args.uuid, args.app, timeout=args.timeout)
    return 0


def _dump(obj: object, fmt: str) -> None:
    import json

    sys.stdout.write(json.dumps(obj, indent=2 if fmt == "json-pretty" else None) + "\n")


def _run_list(args: argparse.Namespace, env: Environment) -> int:
    from rkt.cli import timefmt
    from rkt.cli.table import render
    from rkt.podflow.apps import list_apps

    apps = list_apps(env, args.uuid)
    if args.format:
        _dump([a.to_json() for a in apps], args.format)
        return 0
    when = timefmt.absolute if args.full else timefmt.relative
    legend = ["NAME", "IMAGE NAME", "STATE", "CREATED", "STARTED", "EXIT CODE"]
    rows: list[list[str]] = [] if args.no_legend else [legend]
    rows += [[a.app.name, a.app.image.name, a.state.state, when(a.state.created) if a.state.created else "",
             when(a.state.started) if a.state.started else "",
             "" if a.state.exit_code is None else str(a.state.exit_code)] for a in apps]
    sys.stdout.write(render(rows))
    return 0


def _run_status(args: argparse.Namespace, env: Environment) -> int:
    from rkt.podflow.apps import app_status

    st = app_status(env, args.uuid, args.app).to_json()
    if args.format:
        _dump(st, args.format)
        return 0
    for key, value in st.items():
        if key not in ("mounts", "user_annotations", "stage1_status"):
            sys.stdout.write(f"{key}={value}\n")
    for key, value in (st.get("stage1_status") or {}).items():
        sys.stdout.write(f"{key}={value}\n")
    return 0


def _run_reopen_log(args: argparse.Namespace, env: Environment) -> int:
    from rkt.podflow.apps import reopen_log

    reopen_log(env, args.uuid, args.app)
    return 0
