"""Fetching an ACI by name (``rkt fetch example.com/app:v1.0``) through appc discovery.

Discovery gives the image and signature URLs (:mod:`rkt.trust.discovery`); both are
downloaded into the store's temporary area, the signature is checked against the keys
trusted for the name while the image is imported, and the image's manifest must carry the
name discovery was asked for (and the version, when one was given). With
``--trust-keys-from-https``, keys that discovery announced over HTTPS are trusted for the
name first, as rkt did.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rkt.trust.discovery import Discovered, DiscoveryError, discover, host_labels
from rkt.trust.errors import SignatureError, TrustError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from rkt.store import ImageRecord, Store
    from rkt.trust.aci import PendingCheck
    from rkt.trust.keystore import Keystore
    from rkt_sdk.appc import ImageManifest

    class NamePolicy(Protocol):
        """What fetching by name asks of the command's checks (:class:`rkt.trust.policy.ImagePolicy`)."""

        insecure: frozenset[str]
        trust_keys_from_https: bool

        @property
        def skip(self) -> bool: ...

        def warn_skipped(self) -> None: ...

        def keystore(self) -> Keystore: ...

        def begin(self, ref: str, path: Path, signature: Path | None = None) -> PendingCheck | None: ...


class NameCheck:
    """The manifest must name what discovery was asked for; then the signature check (if any) decides."""

    def __init__(self, ref: str, name: str, version: str | None, inner: PendingCheck | None) -> None:
        self.ref = ref
        self.name = name
        self.version = version
        self.inner = inner

    def finish(self, manifest: ImageManifest) -> bytes | None:
        if str(manifest.name) != self.name:
            self.cancel()
            raise TrustError(f'image "{self.ref}": discovery served an image named "{manifest.name}"')
        got = next((kv.value for kv in manifest.labels if kv.name == "version"), None)
        if self.version is not None and got != self.version:
            self.cancel()
            raise TrustError(f'image "{self.ref}": discovery served version "{got}", not "{self.version}"')
        return self.inner.finish(manifest) if self.inner is not None else None

    def cancel(self) -> None:
        if self.inner is not None:
            self.inner.cancel()

    @property
    def feed(self) -> Callable[[bytes], None] | None:
        return self.inner.feed if self.inner is not None else None


def _trust_discovered_keys(policy: NamePolicy, found: Discovered, name: str) -> None:
    """``--trust-keys-from-https``: trust for ``name`` the keys discovery announced over HTTPS."""
    from rkt.trust.gpg import inspect_keys
    from rkt.trust.remote import get

    keystore = policy.keystore()
    have = {k.fingerprint for k in keystore.trusted() if k.prefix == name}
    for url in found.pubkeys:
        if not url.startswith("https://"):
            continue
        data = get(url, insecure_tls="tls" in policy.insecure)
        key = inspect_keys(data)[0]
        if key.fingerprint in have or key.revoked or key.expired:
            continue
        path = keystore.add(name, key.fingerprint, data)
        sys.stderr.write(f'Trusting key {key.fingerprint} ("{key.uids[0] if key.uids else ""}") from "{url}" '
                         f'for prefix "{name}" at "{path}"\n')


def fetch_by_name(policy: NamePolicy, store: Store, ref: str, name: str, version: str | None) -> ImageRecord:
    """Discover, download, verify and import the image ``name[:version]``."""
    from rkt.trust.remote import HttpError, download

    labels = host_labels()
    labels["version"] = version or "latest"
    allow_http, insecure_tls = "http" in policy.insecure, "tls" in policy.insecure
    try:
        found = discover(name, labels, allow_http=allow_http, insecure_tls=insecure_tls)
    except DiscoveryError as e:
        raise DiscoveryError(f'unable to find image "{ref}" in the local store, and {e}; fetch its ACI file, '
                             "or check the name") from None
    if policy.trust_keys_from_https and not policy.skip and found.https:
        _trust_discovered_keys(policy, found, name)
    failures = []
    for ep in found.endpoints:
        with store.layout.workdir("discover") as work:
            aci, asc = work / "image.aci", work / "image.aci.asc"
            try:
                download(ep.aci, aci, allow_http=allow_http, insecure_tls=insecure_tls)
                if not policy.skip:
                    download(ep.asc, asc, allow_http=allow_http, insecure_tls=insecure_tls)
            except HttpError as e:
                failures.append(str(e))
                continue
            if not policy.skip:
                sys.stderr.write(f'Downloaded image "{name}" from "{ep.aci}"\n')
            inner = policy.begin(ref, aci, signature=asc) if not policy.skip else None
            if policy.skip:
                policy.warn_skipped()
            return store.import_file(Path(aci), display=ref, check=NameCheck(ref, name, version, inner))
    if not policy.skip and any("asc" in f for f in failures):
        raise SignatureError(f'image "{ref}": no signature could be downloaded: {"; ".join(failures)}')
    raise TrustError(f'image "{ref}": no image could be downloaded: {"; ".join(failures)}')
