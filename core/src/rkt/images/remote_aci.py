"""ACIs over HTTP(S): ``rkt fetch https://host/app.aci``, with ETag and Cache-Control as rkt used them.

Each URL fetched is remembered in ``<store>/remote/<sha256 of the URL>.json``: the image it
gave, its ``ETag``, its ``Cache-Control: max-age`` and when it was downloaded. With pull
policy ``new`` (the default) a URL already fetched is not asked again; with ``update`` it is
asked only once its max-age has passed, and then with ``If-None-Match``, so an unchanged
image (``304 Not Modified``) is not downloaded twice; ``never`` uses the store alone. The body
streams into the ACI import as it arrives. Plain ``http://`` needs ``--insecure-options=http``.

Signatures are looked for where rkt looked, at ``<url>.asc`` (or ``--signature``); the
signature policy (:meth:`rkt.trust.policy.ImagePolicy.begin_url`) decides what a missing one
means, and ``gpgv`` is fed the image's bytes as the import reads them, so nothing is kept
unless it verified.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from rkt.images.errors import FetchError
from rkt.store.errors import ImageNotFound
from rkt_sdk.record import Record

if TYPE_CHECKING:
    from collections.abc import Callable

    from rkt.images.registry.transport import HttpClient
    from rkt.store import ImageRecord, Store
    from rkt.store.importer import Check

    class Verifier(Protocol):
        """Starts the signature check of a download (:meth:`rkt.trust.policy.ImagePolicy.begin_url`)."""

        def begin_url(self, url: str, fetch_signature: Callable[[], bytes | None]) -> Check | None: ...

    #: Starts a download's check, given a way to read its signature (None: the server has none).
    Begin = Callable[[Callable[[], bytes | None]], Check | None]

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-cache|no-store)\b", re.IGNORECASE)


class RemoteRecord(Record):
    """What a URL gave last time: the image id, its ETag and max-age, and when (seconds since the epoch)."""

    url: str
    image_id: str
    etag: str | None = None
    max_age: int = 0
    downloaded: float = 0.0

    def fresh(self, now: float) -> bool:
        """Whether Cache-Control lets it be used without asking the server again."""
        return self.max_age > 0 and now - self.downloaded < self.max_age


def record_path(store: Store, url: str) -> Path:
    return store.root / "remote" / (hashlib.sha256(url.encode()).hexdigest() + ".json")


def read_record(store: Store, url: str) -> RemoteRecord | None:
    """The record of ``url``, or None (never fetched, or an unreadable record: fetch again)."""
    try:
        doc = json.loads(record_path(store, url).read_bytes())
        if doc.get("url") != url:
            return None
        return RemoteRecord(url, str(doc["imageID"]), doc.get("etag"), int(doc.get("maxAge", 0)),
                            float(doc.get("downloaded", 0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_record(store: Store, rec: RemoteRecord) -> None:
    """Write the record atomically (a reader sees the old one or the new one)."""
    path = record_path(store, rec.url)
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"url": rec.url, "imageID": rec.image_id, "etag": rec.etag, "maxAge": rec.max_age,
                               "downloaded": rec.downloaded}))
    os.replace(tmp, path)


def max_age(cache_control: str | None) -> int:
    """Seconds a response may be reused without asking again (0 for ``no-cache``/``no-store``)."""
    if not cache_control or _NO_CACHE.search(cache_control):
        return 0
    m = _MAX_AGE.search(cache_control)
    return int(m.group(1)) if m else 0


def _stored(store: Store, rec: RemoteRecord | None) -> ImageRecord | None:
    if rec is None:
        return None
    try:
        return store.resolve(rec.image_id)
    except ImageNotFound:
        return None


def fetch_url(store: Store, url: str, *, insecure: frozenset[str] = frozenset(), pull_policy: str = "new",
              verifier: Verifier | None = None, config_dirs: tuple[Path, ...] = ()) -> ImageRecord:
    """Bring the ACI at ``url`` (``http://`` or ``https://``) into the store; its record.

    ``verifier`` checks the image against ``<url>.asc`` before anything of it is kept (None: no check).
    Credentials for the URL's host come from the ``auth`` kind of rkt's ``config_dirs``, as rkt
    sent them (``basic``, or an ``oauth`` bearer token).
    """
    rec = read_record(store, url)
    cached = _stored(store, rec)
    if pull_policy == "never":
        if cached is None:
            raise ImageNotFound(f'unable to find image "{url}" in the local store (--pull-policy=never)')
        return cached
    if cached is not None and rec is not None and (pull_policy == "new" or rec.fresh(time.time())):
        return cached
    if url.startswith("http://") and "http" not in insecure:
        raise FetchError(f'image "{url}": plain HTTP is not allowed; --insecure-options=http allows it')
    begin = (lambda fetch_signature: verifier.begin_url(url, fetch_signature)) if verifier is not None else None
    return _download(store, url, insecure, rec if cached is not None else None, begin, _auth(url, config_dirs))


def fetch_discovered(store: Store, url: str, signature_url: str, insecure: frozenset[str],
                     begin: Begin) -> ImageRecord:
    """Stream the ACI that appc discovery found at ``url`` into the store, as :func:`fetch_url` does.

    ``begin`` is handed a way to read ``signature_url`` (None when the server has none) and starts
    the check fed with the image's bytes as the import reads them, so nothing of an image that does
    not verify is kept. Nothing is remembered of the URL (names are looked up in the store).
    """
    if url.startswith("http://") and "http" not in insecure:
        raise FetchError(f'image "{url}": plain HTTP is not allowed; --insecure-options=http allows it')
    return _download(store, url, insecure, None, begin, {}, signature_url=signature_url, remember=False)


def _auth(url: str, config_dirs: tuple[Path, ...]) -> dict[str, str]:
    """The ``Authorization`` header the ``auth`` config gives the URL's host (none: empty)."""
    if not config_dirs:
        return {}
    from rkt.config.auth import load_auth

    u = urlsplit(url)
    conf = load_auth(config_dirs)
    creds = conf.for_host(u.netloc.rpartition("@")[2]) or conf.for_host(u.hostname or "")
    return {"Authorization": creds.header()} if creds is not None else {}


def _signature(client: HttpClient, url: str, headers: dict[str, str]) -> bytes | None:
    """The detached signature the server has at ``url`` (``<image url>.asc``), or None when it has none."""
    r, _ = client.open(url, headers)
    try:
        body = r.read(1 << 20)
    finally:
        r.release_conn()
    return body if r.status == 200 else None


def _download(store: Store, url: str, insecure: frozenset[str], rec: RemoteRecord | None, begin: Begin | None,
              auth: dict[str, str], *, signature_url: str | None = None, remember: bool = True) -> ImageRecord:
    from rkt.images.progress import Progress
    from rkt.images.registry.errors import registry_reason
    from rkt.images.registry.transport import HttpClient, ResponseStream
    from rkt.store.importer import import_stream

    client = HttpClient(verify_tls="tls" not in insecure)
    headers = {"Accept": "application/vnd.coreos.aci+x-tar, application/octet-stream, */*", **auth}
    if rec is not None and rec.etag:
        headers["If-None-Match"] = rec.etag
    check = None
    try:
        try:
            r, _ = client.open(url, headers)
        except FetchError as e:
            raise type(e)(f'image "{url}": {e}') from None
        now = time.time()
        if r.status == 304 and rec is not None:
            r.release_conn()
            write_record(store, RemoteRecord(url, rec.image_id, r.headers.get("ETag") or rec.etag,
                                             max_age(r.headers.get("Cache-Control")), now))
            return store.resolve(rec.image_id)
        if r.status != 200:
            body = r.read(64 << 10)
            r.release_conn()
            hint = "; credentials for its host go in an auth config (auth.d)" if r.status in (401, 403) else ""
            raise FetchError(f'image "{url}": the server answered {registry_reason(r.status, body)}{hint}')
        length = r.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else -1
        key = "aci:" + (urlsplit(url).path.rpartition("/")[2] or "image")
        with Progress(url) as progress:
            progress.started(key, max(size, 0))
            download = ResponseStream(r, f'image "{url}"', size, lambda n: progress.advance(key, n))
            with io.BufferedReader(download, buffer_size=1 << 20) as stream:
                if begin is not None:
                    check = begin(lambda: _signature(client, signature_url or url + ".asc", auth))
                image = import_stream(store.layout, store.index, stream, url, store.limits, store.durable, check)
            check = None
            progress.finished(key)
        if remember:
            write_record(store, RemoteRecord(url, image.id, r.headers.get("ETag"),
                                             max_age(r.headers.get("Cache-Control")), now))
        return image
    finally:
        if check is not None:
            check.cancel()
        client.close()
