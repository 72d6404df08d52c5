"""``rkt trust``: trust a public key for image name prefixes; ``rkt trust list`` / ``rkt trust rm``.

``rkt trust [--prefix=PREFIX | --root] [--skip-fingerprint-review] [--insecure-allow-http] [KEY ...]``
as rkt had it: each key (a file, ``file://`` or ``https://`` URL; with ``--prefix`` and no
key, the keys that appc discovery announces for the prefix) is shown with its fingerprint
and user ids; on a terminal the user confirms, elsewhere ``--skip-fingerprint-review`` is
needed. ``rkt trust list [--format=json]`` lists the keys in force; ``rkt trust rm
FINGERPRINT [--prefix=PREFIX | --root]`` stops trusting one.
"""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.trust.keystore import Keystore

#: ``rkt trust`` parses its own arguments (it has the ``list`` and ``rm`` subcommands).
RAW_ARGV = True
DESCRIPTION = ("Trust a key for image verification. KEY is a file, a file:// or https:// URL; with --prefix and "
               "no KEY the keys are found by appc discovery. 'rkt trust list' lists trusted keys, "
               "'rkt trust rm FINGERPRINT' removes one.")
EXAMPLE = "rkt trust --prefix=example.com/hello --skip-fingerprint-review ./pubkey.gpg"
ARGS = (Arg("keys", "public key file or URL", nargs="*", metavar="KEY"),)
FLAGS = (
    Flag("--prefix", "image name prefix the key is trusted for", default=""),
    bool_flag("--root", "trust the key for every image (a local key file; no discovery)"),
    bool_flag("--skip-fingerprint-review", "accept the key without confirming its fingerprint"),
    bool_flag("--insecure-allow-http", "allow plain HTTP to find and read keys"),
)
LIST_FLAGS = (
    Flag("--format", "json or json-pretty (default: a table)", choices=("", "json", "json-pretty")),
    bool_flag("--no-legend", "suppress the header row"),
)
RM_ARGS = (Arg("fingerprints", "fingerprint of a trusted key", nargs="+", metavar="FINGERPRINT"),)
RM_FLAGS = (Flag("--prefix", "only for this prefix", default=""), bool_flag("--root", "only as a root key"))
#: subcommand -> (summary, positional arguments, flags); the main form takes keys instead
SUBCOMMANDS = {
    "list": ("List trusted keys: prefix, fingerprint, user id and file", (), LIST_FLAGS),
    "rm": ("Stop trusting a key (a system key is disabled by an empty local file)", RM_ARGS, RM_FLAGS),
}


def _parse(prog: str, summary: str, args: tuple[Arg, ...], flags: tuple[Flag, ...],
           argv: list[str]) -> argparse.Namespace:
    from rkt.cli.options import add_args, add_flags
    from rkt.cli.parser import make_parser, usage_line

    parser = make_parser(prog, summary, usage=usage_line(prog, flags, args))
    add_args(parser, args)
    add_flags(parser, flags)
    return parser.parse_args(argv)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from rkt.trust.keystore import Keystore

    argv: list[str] = args.argv
    keystore = Keystore.from_config_dirs(gopts.config_dirs)
    if argv[:1] == ["list"]:
        return _list(_parse("rkt trust list", *SUBCOMMANDS["list"], argv[1:]), keystore)
    if argv[:1] == ["rm"]:
        return _rm(_parse("rkt trust rm", *SUBCOMMANDS["rm"], argv[1:]), keystore)
    from rkt.cli.trust_add import add_keys

    return add_keys(_parse("rkt trust", DESCRIPTION, ARGS, FLAGS, argv), keystore, gopts)


def _list(args: argparse.Namespace, keystore: Keystore) -> int:
    import json

    from rkt.trust.listing import describe

    rows = describe(keystore)
    if args.format:
        data = [{"prefix": r.key.prefix, "root": r.key.root, "fingerprint": r.key.fingerprint, "uids": list(r.uids),
                 "file": str(r.key.path), "scope": r.key.scope} for r in rows]
        sys.stdout.write(json.dumps(data, indent=2 if args.format == "json-pretty" else None) + "\n")
        return 0
    from rkt.cli import table

    out = [] if args.no_legend else [["PREFIX", "FINGERPRINT", "UID", "FILE"]]
    out += [[r.key.prefix or "(root)", r.key.fingerprint, r.uids[0] if r.uids else "", str(r.key.path)] for r in rows]
    sys.stdout.write(table.render(out, pad=2))
    return 0


def _rm(args: argparse.Namespace, keystore: Keystore) -> int:
    from rkt.trust.keystore import check_prefix
    from rkt_sdk.errors import RktError

    if args.root and args.prefix:
        raise RktError("--root and --prefix cannot be used together")
    prefix = "" if args.root else (check_prefix(args.prefix) if args.prefix else None)
    for fpr in args.fingerprints:
        for k in keystore.remove(fpr, prefix):
            where = f'prefix "{k.prefix}"' if k.prefix else "every image (root key)"
            how = "disabled system key" if k.scope == "system" else "removed"
            sys.stdout.write(f"Key {k.fingerprint} for {where}: {how} ({k.path})\n")
    return 0
