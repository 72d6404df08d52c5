"""``rkt fetch IMAGE...``: bring images into the local store and print their ids."""

from __future__ import annotations

import argparse
import sys

from rkt.cli.context import GlobalOptions
from rkt.cli.options import Arg, Flag, bool_flag

EXAMPLE = "rkt --insecure-options=image fetch ./hello.aci"
DESCRIPTION = ("Fetch image(s) and store them in the local store. IMAGE is an ACI file (path or file:// URL), "
               "a docker://[REGISTRY/]REPO[:TAG|@DIGEST] reference, oci:DIR[:TAG], oci-archive:FILE[:TAG], "
               "docker-archive:FILE, an http(s):// URL of an ACI, an image id (sha512-..., unique prefixes "
               "accepted), or a name[:version] (from the store, else found by appc discovery). Signatures are "
               "checked against the keys 'rkt trust' added. Prints each image's id.")
ARGS = (Arg("images", "image to fetch", nargs="+", metavar="IMAGE"),)
FLAGS = (
    bool_flag("--full", "print the full image id"),
    Flag("--pull-policy", "never: the local store only; new: names not in the store are discovered; "
         "update: names are always discovered (default new)",
         default="new", choices=("new", "update", "never")),
    bool_flag("--store-only", "use the local store only (as --pull-policy=never)"),
    bool_flag("--no-store", "always fetch, ignoring the local store (as --pull-policy=update)"),
    Flag("--signature", "detached signature of the image at the same position (default: IMAGE.asc)", kind="list",
         metavar="FILE"),
)


def run(args: argparse.Namespace, gopts: GlobalOptions) -> int:
    from pathlib import Path

    from rkt.paths import DataDir
    from rkt.store import Store, short_id
    from rkt.trust.policy import ImagePolicy
    from rkt_sdk.errors import RktError

    if len(args.signature) > len(args.images):
        raise RktError(f"{len(args.signature)} --signature files for {len(args.images)} images")
    if args.store_only and args.no_store:
        raise RktError("both --store-only and --no-store specified")
    pull_policy = "never" if args.store_only else "update" if args.no_store else args.pull_policy
    signatures = {ref: Path(sig) for ref, sig in zip(args.images, args.signature, strict=False)}
    policy = ImagePolicy(gopts.config_dirs, gopts.insecure_options, signatures,
                         trust_keys_from_https=gopts.trust_keys_from_https, debug=gopts.debug)
    with Store(DataDir(gopts.dir).store) as store:
        for ref in args.images:
            rec = policy.fetch(store, ref, pull_policy)
            sys.stdout.write((rec.id if args.full else short_id(rec.id)) + "\n")
            sys.stdout.flush()
    return 0
