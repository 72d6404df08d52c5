"""Fetching an ACI by name (``rkt fetch example.com/app:v1.0``) through appc discovery.

Discovery gives the image and signature URLs (:mod:`rkt.trust.discovery`); the image streams
into the store's import as ``https://`` ACIs do (:func:`rkt.images.remote_aci.fetch_discovered`),
checked against the signature (``--signature`` for the name, else the discovered one) and the
keys trusted for the name while it is read, and its manifest must carry the name discovery was
asked for (and the version, when one was given): nothing of an image refused is kept. With
``--trust-keys-from-https``, keys that discovery announced over HTTPS are trusted for the
name first, as rkt did.
"""

from __future__ import annotations

import sys

from rkt.trust.discovery import Discovered, DiscoveryError, discover, host_labels
from rkt.trust.errors import SignatureError, TrustError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
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

        def begin_url(self, url: str, fetch_signature: Callable[[], bytes | None]) -> PendingCheck | None: ...


class NameCheck:
    """The manifest must name what discovery was asked for; then the signature check (if any) decides."""

    def __init__(self, ref: str, name: str, version: str | None, inner: PendingCheck | None) -> None:
        self.ref = ref
        self.name = name
        self.version = version
        self.inner = inner

    def finish(self, manifest: ImageManifest, data: Path | None = None) -> bytes | None:
        if str(manifest.name) != self.name:
            self.cancel()
            raise TrustError(f'image "{self.ref}": discovery served an image named "{manifest.name}"')
        got = next((kv.value for kv in manifest.labels if kv.name == "version"), None)
        if self.version is not None and got != self.version:
            self.cancel()
            raise TrustError(f'image "{self.ref}": discovery served version "{got}", not "{self.version}"')
        return self.inner.finish(manifest, data) if self.inner is not None else None

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
    """Discover, then download, verify and import the image ``name[:version]`` in one stream."""
    from rkt.images.errors import FetchError
    from rkt.images.remote_aci import fetch_discovered

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
        try:
            return fetch_discovered(store, ep.aci, ep.asc, policy.insecure, _begin(policy, ref, name, version, ep.asc))
        except FetchError as e:
            failures.append(str(e))
    raise TrustError(f'image "{ref}": no image could be downloaded: {"; ".join(failures)}')


def _begin(policy: NamePolicy, ref: str, name: str, version: str | None,
           asc: str) -> Callable[[Callable[[], bytes | None]], NameCheck]:
    """The check of a discovered image as it streams: its name and version, then its signature (``asc``)."""

    def begin(fetch_signature: Callable[[], bytes | None]) -> NameCheck:
        if policy.skip:
            policy.warn_skipped()
            return NameCheck(ref, name, version, None)
        if asc.startswith("http://") and "http" not in policy.insecure:
            raise SignatureError(f'image "{ref}": its signature "{asc}" is on plain HTTP, which is not allowed; '
                                 "--insecure-options=http allows it")

        def signature() -> bytes:
            sig = fetch_signature()
            if sig is None:
                raise SignatureError(f'image "{ref}": no signature could be downloaded from "{asc}"; '
                                     "use --insecure-options=image to skip the check")
            return sig

        return NameCheck(ref, name, version, policy.begin_url(ref, signature))

    return begin
