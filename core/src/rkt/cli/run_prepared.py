"""``rkt run-prepared UUID``."""

from __future__ import annotations

import argparse

from rkt.cli.context import GlobalOptions


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("uuid", help="UUID of a pod made by 'rkt prepare'")
    p.add_argument("--interactive", action="store_true", help="give the (single) app the terminal")
    p.add_argument("--net", action="append", default=[], help="networks: host, none, default, NAME[:K=V;...], all")
    p.add_argument("--dns", action="append", default=[], help="nameserver IP, or 'host' or 'none'")
    p.add_argument("--dns-search", action="append", default=[], help="DNS search domain")
    p.add_argument("--dns-opt", action="append", default=[], help="DNS resolver option")
    p.add_argument("--dns-domain", default="", help="DNS local domain")
    p.add_argument("--hosts-entry", action="append", default=[], metavar="IP=HOSTNAME", help="an /etc/hosts entry")
    p.add_argument("--hostname", default="", help="the pod's hostname (default rkt-UUID)")
    p.add_argument("--mds-register", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt import launch
    from rkt.apps import flags as F
    from rkt.apps.request import PodRequest
    from rkt.cli.request import dns_config, environment

    req = PodRequest(apps=(), net=tuple(args.net), dns=dns_config(args), hostname=args.hostname,
                     hosts_entries=tuple(F.hosts_entry(h) for h in args.hosts_entry), interactive=args.interactive)
    return launch.run_prepared(args.uuid, req, environment(gopts))
