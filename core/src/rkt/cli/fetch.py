"""``rkt fetch IMAGE...``: bring images into the local store and print their ids."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions


def bool_flag(p: argparse.ArgumentParser, name: str, help: str, default: bool = False) -> None:
    """A Go-style boolean flag: ``--name``, ``--name=true`` and ``--name=false`` (never eats the next word)."""
    dest = name.lstrip("-").replace("-", "_")
    p.add_argument(name, dest=dest, action="store_true", default=default,
                   help=f"{help} (default {str(default).lower()}; --{dest.replace('_', '-')}=false to unset)")
    p.add_argument(f"{name}=true", dest=dest, action="store_true", help=argparse.SUPPRESS)
    p.add_argument(f"{name}=false", dest=dest, action="store_false", help=argparse.SUPPRESS)


def add_arguments(p: argparse.ArgumentParser, command: str) -> None:
    p.description = ("Fetch image(s) and store them in the local store. IMAGE is an ACI file (path or file:// URL), "
                     "an image id (sha512-..., unique prefixes accepted), or a name[:version] already in the store. "
                     "Prints each image's id.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image to fetch")
    bool_flag(p, "--full", "print the full image id")
    p.add_argument("--pull-policy", choices=("new", "update", "never"), default="new",
                   help="never: use the local store only; new/update: import files (default new)")
    p.add_argument("--signature", action="append", default=[], metavar="FILE",
                   help="local signature file (accepted; signatures are not verified yet)")


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.paths import DataDir
    from rkt.store import Store, short_id

    with Store(DataDir(gopts.dir).store) as store:
        for ref in args.images:
            if args.pull_policy == "never":
                rec = store.resolve(ref)
            else:
                rec = store.fetch(ref, insecure=gopts.insecure_options)
            sys.stdout.write((rec.id if args.full else short_id(rec.id)) + "\n")
            sys.stdout.flush()
    return 0
