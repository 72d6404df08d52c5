"""HTTP for fetching images: urllib3 pools, proxies from the environment, TLS, redirects.

One :class:`HttpClient` serves a whole fetch and is safe to share between threads (layers
download in parallel). It follows redirects itself so that a redirect to another host (blob
storage) never carries the registry's ``Authorization`` header. Proxies come from
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (either case), as curl and
the standard library read them. Certificates are checked against the system's CAs
(``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override them), plus the CA certificates kept for the
host as podman and docker keep them (``/etc/containers/certs.d/HOST[:PORT]/*.crt``, else
``/etc/docker/certs.d/...``), unless ``verify_tls`` is false. With ``debug``
(``SourceOptions.debug``) each request is shown on stderr.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from rkt.images.registry.errors import ConnectError, FetchError

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 10
#: Connection failures and a server's passing trouble (500, 502, 503, 504) are tried again, with
#: backoff; a rate limit (429) is not waited out but reported with the server's reason.
_RETRY = urllib3.Retry(total=4, connect=3, read=2, redirect=False, status=2, other=0,
                       status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET", "HEAD"}),
                       backoff_factor=0.3, backoff_max=5, respect_retry_after_header=False,
                       raise_on_status=False, raise_on_redirect=False)
_TIMEOUT = urllib3.Timeout(connect=30.0, read=120.0)
USER_AGENT = "rkt/0.1 (python urllib3)"
#: Directories of per-host CA certificates (``<dir>/<host[:port]>/*.crt``), first found wins.
CERTS_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


class TLSFailed(ConnectError):
    """The TLS handshake failed: ``untrusted`` when the certificate was not trusted."""

    def __init__(self, message: str, untrusted: bool = False) -> None:
        super().__init__(message)
        self.untrusted = untrusted


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``, or ``None`` (direct, or in ``NO_PROXY``)."""
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    u = urlsplit(url)
    host = u.netloc.rpartition("@")[2]
    if not proxies or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    return proxies.get(u.scheme) or proxies.get("all")


def _reason(e: BaseException) -> str:
    while isinstance(e, MaxRetryError) and e.reason is not None:
        e = e.reason
    text = str(e.args[-1] if isinstance(e, NewConnectionError | SSLError) and e.args else e)
    return text.rpartition("): ")[2] if text.startswith("<") else text


def connect_error(host: str, e: BaseException) -> ConnectError:
    """One line saying why ``host`` could not be reached (``e`` is a urllib3 error)."""
    inner = e.reason if isinstance(e, MaxRetryError) and e.reason is not None else e
    why = _reason(inner)
    if isinstance(inner, SSLError):
        untrusted = "CERTIFICATE_VERIFY_FAILED" in why or "certificate verify failed" in why
        if untrusted:
            return TLSFailed(f"the TLS certificate of {host} is not trusted ({why}); --insecure-options=tls "
                             "skips certificate checks", True)
        return TLSFailed(f"TLS with {host} failed ({why})", False)
    if isinstance(inner, ProxyError):
        return ConnectError(f"cannot reach {host} through the proxy: {why}")
    if isinstance(inner, NameResolutionError):
        return ConnectError(f"cannot resolve the host name of {host}")
    if isinstance(inner, Urllib3Timeout):
        return ConnectError(f"{host} did not answer in time")
    if isinstance(inner, NewConnectionError):
        return ConnectError(f"cannot connect to {host}: {why}")
    return ConnectError(f"talking to {host} failed: {why}")


def _trace(method: str, url: str, r: urllib3.BaseHTTPResponse) -> None:
    """``--debug``: one line per request on stderr (the URL without its query, which may hold secrets)."""
    import sys

    sys.stderr.write(f"{method} {url.partition('?')[0]}: {r.status} {r.reason or ''}".rstrip() + "\n")


def _context_with(cas: tuple[str, ...]) -> object:
    """A TLS context trusting the system's CAs and ``cas``."""
    import ssl

    ctx = ssl.create_default_context()
    for f in cas:
        try:
            ctx.load_verify_locations(cafile=f)
        except (OSError, ssl.SSLError) as e:
            raise ConnectError(f"cannot use the CA certificate {f}: {e}") from None
    return ctx


def host_cas(netloc: str) -> tuple[str, ...]:
    """The CA certificate files kept for ``host[:port]`` in :data:`CERTS_DIRS` (none: empty)."""
    for d in CERTS_DIRS:
        try:
            names = sorted(n for n in os.listdir(d / netloc) if n.endswith(".crt"))
        except OSError:
            continue
        if names:
            return tuple(str(d / netloc / n) for n in names)
    return ()


class HttpClient:
    """Connection pools (one per proxy) shared by every request of a fetch."""

    def __init__(self, *, verify_tls: bool = True, pool_size: int = 8, debug: bool = False) -> None:
        self.verify_tls = verify_tls
        self.debug = debug
        self._pool_kw: dict[str, object] = {"maxsize": pool_size, "block": False, "retries": _RETRY,
                                            "timeout": _TIMEOUT}
        if not verify_tls:
            self._pool_kw.update(cert_reqs="CERT_NONE", assert_hostname=False)
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._managers: dict[tuple[str | None, tuple[str, ...]], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = proxy_for(url)
        u = urlsplit(url)
        cas = host_cas(u.netloc) if self.verify_tls and u.scheme == "https" else ()
        with self._lock:
            m = self._managers.get((proxy, cas))
            if m is None:
                kw = dict(self._pool_kw)
                if cas:
                    kw["ssl_context"] = _context_with(cas)
                if proxy is None:
                    m = urllib3.PoolManager(num_pools=8, **kw)  # type: ignore[arg-type]
                else:
                    m = urllib3.ProxyManager(proxy, num_pools=8, **kw)  # type: ignore[arg-type]
                self._managers[(proxy, cas)] = m
            return m

    def open(self, url: str, headers: Mapping[str, str] | None = None, *, method: str = "GET",
             decode: bool = True, body: bytes | None = None) -> tuple[urllib3.BaseHTTPResponse, str]:
        """Send a request, following redirects; ``(response, final URL)``, the body not read yet.

        The caller reads the body (``response.read(n)``) and calls ``release_conn()``.
        ``Authorization`` is dropped when a redirect leaves the first host; a redirect other
        than 307/308 turns a request with a ``body`` into a GET without one.
        """
        hdrs = {"User-Agent": USER_AGENT, **(headers or {})}
        origin = urlsplit(url).netloc
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                r = self._manager(url).urlopen(method, url, headers=hdrs, body=body, redirect=False,
                                               preload_content=False, decode_content=decode)
            except HTTPError as e:
                raise connect_error(urlsplit(url).netloc, e) from None
            if self.debug:
                _trace(method, url, r)
            location = r.headers.get("Location")
            if r.status not in _REDIRECTS or not location:
                return r, url
            r.drain_conn()
            r.release_conn()
            url = urljoin(url, location)
            if r.status not in (307, 308):
                method, body = "GET", None
            if urlsplit(url).netloc != origin:
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
        raise FetchError(f"too many redirects from {origin} (more than {_MAX_REDIRECTS})")

    def close(self) -> None:
        with self._lock:
            for m in self._managers.values():
                m.clear()
            self._managers.clear()


class ResponseStream(io.RawIOBase):
    """A response body as a readable stream; network failures become :class:`FetchError`.

    ``size``: how many bytes are expected (-1: unknown); ``on_bytes`` is told of each read.
    A stream closed before the end drops its connection instead of returning it to the pool.
    """

    def __init__(self, resp: urllib3.BaseHTTPResponse, name: str, size: int = -1,
                 on_bytes: Callable[[int], None] | None = None) -> None:
        self._resp = resp
        self._name = name
        self._left = size
        self._done = size == 0
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int | None = -1, /) -> bytes:
        try:
            data = self._resp.read(None if n is None or n < 0 else n)
        except (HTTPError, OSError) as e:
            raise FetchError(f"{self._name}: the download broke off: {_reason(e)}") from None
        self._left -= len(data)
        if data and self._on_bytes is not None:
            self._on_bytes(len(data))
        if not data or self._left == 0 or n is None or n < 0:
            self._done = True
        return data

    def close(self) -> None:
        if not self.closed:
            if not self._done:
                self._resp.close()  # not read to the end: the connection cannot be reused
            self._resp.release_conn()
        super().close()
