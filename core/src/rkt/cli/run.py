"""``rkt run`` and ``rkt prepare``."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.parser import make_parser

EPILOG = """\
images are given as paths to .aci files, file:// URLs, image ids (sha512-...) or
name[:version] of images already in the store.

app flags (after an image, or before the first image to apply to every app):
  --exec=PATH --name=NAME --user=USER --group=GROUP --supplementary-gids=GID,...
  --working-dir=DIR --environment=NAME=VALUE --mount=volume=NAME,target=PATH
  --memory=SIZE --cpu=CPUS --cpu-shares=N --caps-retain=CAPS --caps-remove=CAPS
  --seccomp=mode=retain|remove[,errno=E],SYSCALL,... --oom-score-adj=N --readonly-rootfs
  --user-annotation=K=V --user-label=K=V
arguments after "--" are appended to the app's exec, up to "---".

usage: rkt run [flags] IMAGE [app flags] [-- ARGS... ---] [IMAGE ...]"""


def add_app_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("app flags")
    g.add_argument("--exec", help="override the app's executable")
    g.add_argument("--name", help="the app's name in the pod")
    g.add_argument("--user", help="user to run the app as (name, number or path in the image)")
    g.add_argument("--group", help="group to run the app as")
    g.add_argument("--supplementary-gids", help="comma-separated supplementary group ids")
    g.add_argument("--working-dir", help="the app's working directory")
    g.add_argument("--environment", action="append", default=[], metavar="NAME=VALUE",
                   help="set an environment variable for this app")
    g.add_argument("--mount", action="append", default=[], metavar="volume=NAME,target=PATH",
                   help="mount a pod volume into the app")
    g.add_argument("--memory", help="memory limit (e.g. 64M)")
    g.add_argument("--cpu", help="CPU limit (e.g. 500m)")
    g.add_argument("--cpu-shares", help="CPU shares (relative weight)")
    g.add_argument("--caps-retain", help="capabilities to keep")
    g.add_argument("--caps-remove", help="capabilities to drop")
    g.add_argument("--seccomp", help="seccomp filter: mode=retain|remove[,errno=E],SYSCALL,...")
    g.add_argument("--oom-score-adj", help="OOM score adjustment (-1000..1000)")
    g.add_argument("--readonly-rootfs", action="store_true", default=None, help="mount the app's root read-only")
    g.add_argument("--user-annotation", action="append", default=[], metavar="K=V", help="annotate the app")
    g.add_argument("--user-label", action="append", default=[], metavar="K=V", help="label the app")
    g.add_argument("--signature", help="(accepted for compatibility; signatures are not verified)")


def add_pod_flags(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--pod-manifest", default="", help="path to a pod manifest (no images or app flags with it)")
    p.add_argument("--volume", action="append", default=[], metavar="NAME,kind=host|empty,...",
                   help="a pod volume, e.g. data,kind=host,source=/srv,readOnly=true")
    p.add_argument("--port", action="append", default=[], metavar="NAME:[HOSTIP:]HOSTPORT",
                   help="forward a host port to an app port")
    p.add_argument("--set-env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for every app")
    p.add_argument("--set-env-file", action="append", default=[], metavar="FILE",
                   help="a file of NAME=VALUE lines for every app")
    p.add_argument("--inherit-env", action="store_true", help="pass rkt's own environment to the apps")
    p.add_argument("--stage1-name", default="", help="the stage1 flavor to run the pod with (see 'rkt flavors')")
    for f in ("--stage1-path", "--stage1-url", "--stage1-hash", "--stage1-from-dir"):
        p.add_argument(f, default=None, help=argparse.SUPPRESS)
    p.add_argument("--net", action="append", default=[], help="networks: host, none, default, NAME[:K=V;...], all")
    p.add_argument("--dns", action="append", default=[], help="nameserver IP, or 'host' or 'none'")
    p.add_argument("--dns-search", action="append", default=[], help="DNS search domain")
    p.add_argument("--dns-opt", action="append", default=[], help="DNS resolver option")
    p.add_argument("--dns-domain", default="", help="DNS local domain")
    p.add_argument("--hosts-entry", action="append", default=[], metavar="IP=HOSTNAME",
                   help="an /etc/hosts entry, or 'host' to copy the host's")
    p.add_argument("--hostname", default="", help="the pod's hostname (default rkt-UUID)")
    p.add_argument("--uuid-file-save", default="", help="write the pod's UUID to this file")
    p.add_argument("--no-overlay", action="store_true", help="copy each app's root instead of using overlayfs")
    p.add_argument("--pull-policy", default="new", choices=("new", "never", "update"),
                   help="when to fetch images (only local images are supported)")
    p.add_argument("--store-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-store", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mds-register", action="store_true", default=False, help=argparse.SUPPRESS)
    p.add_argument("--private-users", action="store_true", help=argparse.SUPPRESS)
    if command == "run":
        p.add_argument("--interactive", action="store_true", help="give the (single) app the terminal")
    else:
        p.add_argument("--quiet", action="store_true", help="print nothing but the UUID")
    add_app_flags(p)


#: the dispatcher hands this module the raw arguments: images and app flags interleave
RAW_ARGV = True
SUMMARY = {"run": "Run image(s) in a pod", "prepare": "Prepare to run image(s) in a pod"}


def _app_parser(command: str) -> argparse.ArgumentParser:
    p = make_parser(f"rkt {command} IMAGE", "app flags")
    add_app_flags(p)
    return p


def parse(argv: list[str], command: str) -> tuple[argparse.Namespace, list[argparse.Namespace]]:
    """Parse pod flags and each image's app flags."""
    from rkt.apps.argv import split

    pod_parser = make_parser(f"rkt {command}", SUMMARY[command], raw_description=True)
    pod_parser.epilog = EPILOG.replace("rkt run", f"rkt {command}")
    add_pod_flags(pod_parser, command)
    app_parser = _app_parser(command)
    try:
        cut = split(argv, pod_parser, app_parser)
    except argparse.ArgumentError as e:
        pod_parser.error(str(e))
    pod_ns = pod_parser.parse_args(cut.pod)
    apps = []
    for image, flags, args in cut.apps:
        ns = app_parser.parse_args(flags)
        ns.image = image
        ns.args = args
        apps.append(ns)
    return pod_ns, apps


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.cli.request import conflicting, environment, make_request

    pod_ns, app_nss = parse(args.argv, args.command)
    conflicting(pod_ns, app_nss, args.command)
    req = make_request(pod_ns, app_nss)
    env = environment(gopts)
    from rkt import launch

    if args.command == "prepare":
        pod, _ = launch.prepare(req, env)
        sys.stdout.write(f"{pod.uuid}\n")
        return 0
    sys.stdout.flush()
    return launch.run(req, env)
