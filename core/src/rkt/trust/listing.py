"""The trusted keys with what their files say (user ids), for ``rkt trust list``."""

from __future__ import annotations

from rkt.trust.errors import TrustError
from rkt.trust.gpg import inspect_keys
from rkt.trust.keystore import Keystore, TrustedKey
from rkt_sdk.record import Record


class KeyRow(Record):
    """A trusted key and the user ids of its file (empty if gpg cannot read the file)."""

    key: TrustedKey
    uids: tuple[str, ...]


def describe(keystore: Keystore) -> list[KeyRow]:
    """Every key in force with its user ids, by prefix then fingerprint (root keys first)."""
    rows = []
    for k in keystore.trusted():
        try:
            infos = inspect_keys(k.path.read_bytes())
            uids = next((i.uids for i in infos if i.fingerprint == k.fingerprint), infos[0].uids)
        except (OSError, TrustError):
            uids = ()
        rows.append(KeyRow(k, uids))
    return rows
