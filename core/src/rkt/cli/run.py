"""``rkt run`` and ``rkt prepare``."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, add_flags
from rkt.cli.parser import make_parser
from rkt.cli.podflags import APP_FLAGS, pod_flags

EPILOG = """\
images are given as paths to .aci files, file:// URLs, image ids (sha512-...) or
name[:version] of images already in the store.

app flags (after an image, or before the first image to apply to every app):
  --exec=PATH --name=NAME --user=USER --group=GROUP --supplementary-gids=GID,...
  --working-dir=DIR --environment=NAME=VALUE --mount=volume=NAME,target=PATH
  --memory=SIZE --cpu=CPUS --cpu-shares=N --caps-retain=CAPS --caps-remove=CAPS
  --seccomp=mode=retain|remove[,errno=E],SYSCALL,... --oom-score-adj=N --readonly-rootfs[=true|false]
  --user-annotation=K=V --user-label=K=V
arguments after "--" are appended to the app's exec, up to "---".

usage: rkt run [flags] IMAGE [app flags] [-- ARGS... ---] [IMAGE ...]"""


#: the dispatcher hands this module the raw arguments: images and app flags interleave
RAW_ARGV = True
ARGS = (Arg("images", "images, each followed by its app flags and arguments (see the app flags)", nargs="+",
            metavar="IMAGE [app flags] [-- ARGS... ---]"),)
EXAMPLES = {"run": "rkt run --stage1-name=fly --net=host example.com/hello:1.0 --exec=/bin/echo -- hi ---",
            "prepare": "rkt prepare --quiet --no-overlay=true example.com/hello:1.0"}
SUMMARY = {"run": "Run image(s) in a pod", "prepare": "Prepare to run image(s) in a pod"}


def flags_for(command: str) -> tuple[Flag, ...]:
    """Every flag ``run`` or ``prepare`` takes: the pod's, then the app flags."""
    return pod_flags(command) + APP_FLAGS


def pod_parser(command: str) -> argparse.ArgumentParser:
    """The parser of the pod-level flags of ``run`` or ``prepare`` (app flags there apply to every app)."""
    p = make_parser(f"rkt {command}", SUMMARY[command], raw_description=True,
                    usage=f"rkt {command} [flags] IMAGE [app flags] [-- ARGS... ---] [IMAGE ...]")
    p.epilog = EPILOG.replace("rkt run", f"rkt {command}")
    add_flags(p, pod_flags(command))
    add_flags(p.add_argument_group("app flags"), APP_FLAGS)
    return p


def app_parser(command: str) -> argparse.ArgumentParser:
    """The parser of one image's app flags."""
    p = make_parser(f"rkt {command} IMAGE", "app flags")
    add_flags(p, APP_FLAGS)
    return p


def parse(argv: list[str], command: str) -> tuple[argparse.Namespace, list[argparse.Namespace]]:
    """Parse pod flags and each image's app flags."""
    from rkt.apps.argv import split

    pods = pod_parser(command)
    apps_p = app_parser(command)
    try:
        cut = split(argv, pods, apps_p)
    except argparse.ArgumentError as e:
        pods.error(str(e))
    pod_ns = pods.parse_args(cut.pod)
    apps = []
    for image, flags, args in cut.apps:
        ns = apps_p.parse_args(flags)
        ns.image = image
        ns.args = args
        apps.append(ns)
    return pod_ns, apps


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import conflicting, environment, make_request

    pod_ns, app_nss = parse(args.argv, args.command)
    conflicting(pod_ns, app_nss, args.command)
    req = make_request(pod_ns, app_nss, args.command)
    env = environment(gopts)
    if args.command == "prepare":
        from rkt.podflow.prepare import prepare

        pod = prepare(req, env)
        sys.stdout.write(f"{pod.uuid}\n")
        return 0
    from rkt.podflow.start import run as run_pod

    sys.stdout.flush()
    return run_pod(req, env)
