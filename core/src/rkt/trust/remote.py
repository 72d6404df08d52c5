"""Small HTTPS reads of trust material: key files, discovery pages and signatures (urllib3).

Only this module speaks HTTP for trust, and it is imported only when a key or a page must
come from the network. TLS certificates are checked against the system's CA bundle (or
``$SSL_CERT_FILE``); ``insecure_tls`` skips the check, and plain ``http://`` needs
``allow_http``.
"""

from __future__ import annotations

import os
from pathlib import Path

from rkt.trust.errors import TrustError

#: Largest key file, discovery page or signature read (they are small; a bigger answer is refused).
MAX_BYTES = 4 << 20
_pools: dict[bool, object] = {}


class HttpError(TrustError):
    """A URL could not be read; ``status`` is the HTTP status when the server answered."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def _pool(insecure_tls: bool) -> object:
    import urllib3

    pool = _pools.get(insecure_tls)
    if pool is None:
        if insecure_tls:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            pool = urllib3.PoolManager(cert_reqs="CERT_NONE", assert_hostname=False)
        else:
            ca = os.environ.get("SSL_CERT_FILE")
            pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=ca) if ca else urllib3.PoolManager()
        _pools[insecure_tls] = pool
    return pool


def get(url: str, *, allow_http: bool = False, insecure_tls: bool = False, timeout: float = 30.0) -> bytes:
    """The body at ``url`` (redirects followed); :class:`HttpError` naming the URL on any failure."""
    import urllib3

    scheme = url.partition("://")[0].lower()
    if scheme == "http" and not allow_http:
        raise HttpError(f'"{url}": plain HTTP is not allowed (--insecure-options=http, or --insecure-allow-http '
                        "for rkt trust)")
    if scheme not in ("http", "https"):
        raise HttpError(f'"{url}": not an http(s) URL')
    pool = _pool(insecure_tls)
    try:
        r = pool.request("GET", url, preload_content=False, redirect=True,  # type: ignore[attr-defined]
                         timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=urllib3.Retry(
                             total=2, connect=0, read=1, redirect=10, status=0, raise_on_redirect=True))
    except urllib3.exceptions.HTTPError as e:
        raise HttpError(f'"{url}": {_reason(e)}') from None
    try:
        if r.status != 200:
            raise HttpError(f'"{url}": the server answered {r.status} {r.reason or ""}'.rstrip(), r.status)
        body = r.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise HttpError(f'"{url}": the answer is larger than {MAX_BYTES} bytes')
        return bytes(body)
    except urllib3.exceptions.HTTPError as e:
        raise HttpError(f'"{url}": {_reason(e)}') from None
    finally:
        r.release_conn()


def download(url: str, dest: Path, *, allow_http: bool = False, insecure_tls: bool = False,
             timeout: float = 60.0) -> None:
    """Stream the body at ``url`` into the new file ``dest``; :class:`HttpError` naming the URL on failure."""
    import urllib3

    if url.partition("://")[0].lower() == "http" and not allow_http:
        raise HttpError(f'"{url}": plain HTTP is not allowed (--insecure-options=http)')
    pool = _pool(insecure_tls)
    try:
        r = pool.request("GET", url, preload_content=False, redirect=True,  # type: ignore[attr-defined]
                         timeout=urllib3.Timeout(connect=timeout, read=timeout))
    except urllib3.exceptions.HTTPError as e:
        raise HttpError(f'"{url}": {_reason(e)}') from None
    try:
        if r.status != 200:
            raise HttpError(f'"{url}": the server answered {r.status} {r.reason or ""}'.rstrip(), r.status)
        with open(dest, "xb") as out:
            for chunk in r.stream(1 << 20):
                out.write(chunk)
    except urllib3.exceptions.HTTPError as e:
        raise HttpError(f'"{url}": {_reason(e)}') from None
    finally:
        r.release_conn()


def _reason(e: Exception) -> str:
    """The innermost reason urllib3 gives (a certificate or connection failure), on one line."""
    import urllib3

    inner = getattr(e, "reason", None) or e
    text = str(inner)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS certificate verification failed (use --insecure-options=tls to skip it)"
    if isinstance(inner, urllib3.exceptions.NameResolutionError):
        return f"cannot resolve host {getattr(inner.conn, 'host', '')}".rstrip()
    if isinstance(inner, urllib3.exceptions.NewConnectionError):
        return "cannot connect: " + text.rpartition(": ")[2]
    return text.splitlines()[0] if text else type(e).__name__
