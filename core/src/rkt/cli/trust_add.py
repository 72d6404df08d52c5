"""The main form of ``rkt trust``: review keys and add them to the local keystore."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rkt.cli.context import GlobalOptions
from rkt.trust.errors import TrustError
from rkt.trust.keystore import Keystore, check_prefix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.trust.gpg import KeyInfo


def pretty_fingerprint(fpr: str) -> str:
    """``8B86 DE38 890D DB72 9186  7B02 5210 BD88 8818 2190`` (as gpg and rkt print one)."""
    groups = [fpr[i:i + 4].upper() for i in range(0, len(fpr), 4)]
    half = len(groups) // 2
    return " ".join(groups[:half]) + "  " + " ".join(groups[half:])


def read_key(source: str, allow_http: bool, insecure_tls: bool) -> bytes:
    """The bytes of a key file or URL (``file://``, ``https://``; ``http://`` only if allowed)."""
    scheme = source.partition("://")[0].lower() if "://" in source else ""
    if scheme in ("http", "https"):
        from rkt.trust.remote import get

        return get(source, allow_http=allow_http, insecure_tls=insecure_tls)
    if scheme and scheme != "file":
        raise TrustError(f'key "{source}": unsupported URL scheme "{scheme}"')
    path = Path(source[7:] if scheme == "file" else source)
    try:
        return path.read_bytes()
    except OSError as e:
        raise TrustError(f'key "{source}": {e.strerror}') from None


def _sources(args: argparse.Namespace, prefix: str, gopts: GlobalOptions) -> list[str]:
    if args.keys:
        return list(args.keys)
    if args.root:
        raise TrustError("--root needs a key file (keys are not discovered for the root)")
    from rkt.trust.discovery import discover_pubkeys

    return discover_pubkeys(prefix, allow_http=args.insecure_allow_http or "http" in gopts.insecure_options,
                            insecure_tls="tls" in gopts.insecure_options)


def _review(source: str, prefix: str, key: KeyInfo, skip: bool) -> None:
    """Show the key; ask on a terminal unless ``skip``; :class:`TrustError` if it is not accepted."""
    w = sys.stdout.write
    w(f'Prefix: "{prefix}"\n' if prefix else "Root key (trusted for every image)\n")
    w(f'Key: "{source}"\nGPG key fingerprint is: {pretty_fingerprint(key.fingerprint)}\n')
    for uid in key.uids:
        w(f"  {uid}\n")
    sys.stdout.flush()
    if skip:
        return
    if not os.isatty(0):
        raise TrustError(f'key "{source}": the fingerprint must be reviewed on a terminal; '
                         "pass --skip-fingerprint-review to trust it without review")
    while True:
        w("Are you sure you want to trust this key (yes/no)? ")
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if answer in ("", "no\n"):
            raise TrustError(f'key "{source}" was not accepted; nothing trusted')
        if answer == "yes\n":
            return
        w("Please enter 'yes' or 'no'\n")


def add_keys(args: argparse.Namespace, keystore: Keystore, gopts: GlobalOptions) -> int:
    """Review and trust every key the arguments name; returns the exit code."""
    from rkt.trust.gpg import inspect_keys

    if args.root and args.prefix:
        raise TrustError("--root and --prefix cannot be used together")
    if not args.root and not args.prefix:
        raise TrustError("--prefix required (or --root for a key trusted for every image)")
    prefix = "" if args.root else check_prefix(args.prefix)
    insecure_tls = "tls" in gopts.insecure_options
    for source in _sources(args, prefix, gopts):
        data = read_key(source, args.insecure_allow_http or "http" in gopts.insecure_options, insecure_tls)
        try:
            key = inspect_keys(data)[0]
        except TrustError:
            raise TrustError(f'key "{source}": not an OpenPGP public key') from None
        if key.revoked or key.expired:
            raise TrustError(f'key "{source}" ({key.fingerprint}) is {"revoked" if key.revoked else "expired"}; '
                             "not trusting it")
        _review(source, prefix, key, args.skip_fingerprint_review)
        if prefix:
            sys.stdout.write(f'Trusting "{source}" for prefix "{prefix}".\n')
        path = keystore.add(prefix, key.fingerprint, data)
        added = f'key for prefix "{prefix}"' if prefix else "root key"
        sys.stdout.write(f'Added {added} at "{path}"\n')
    return 0
