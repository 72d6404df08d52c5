"""The ``docker://`` image source: a Docker registry (v2 API) over HTTP(S).

Implements the image-source protocol the pull engine reads (``fetch_manifest``,
``open_blob``, ``close``). The first request pings ``/v2/``: over HTTPS, and over plain HTTP
only with ``--insecure-options=http`` (when HTTPS fails); its challenge, if any, decides how
every later request authenticates. Manifests are asked for in the four types the engine
reads (OCI and Docker schema 2, single images and indexes); a manifest fetched by digest is
checked against it here, blobs are checked by the caller while they stream.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from urllib3.exceptions import HTTPError

from rkt.images.docker_reference import DockerReference
from rkt.images.registry.auth import Authenticator
from rkt.images.registry.credentials import find_credentials
from rkt.images.registry.errors import (
    ConnectError,
    ContentError,
    DigestMismatch,
    FetchError,
    ManifestUnknown,
    RegistryError,
    registry_reason,
)
from rkt.images.registry.transport import HttpClient, ResponseStream, TLSFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    import urllib3

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: What ``fetch_manifest`` accepts and returns, preferred first.
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+prettyjws",
            "application/vnd.docker.distribution.manifest.v1+json")
MANIFEST_MAX = 4 << 20
_ERROR_MAX = 64 << 10


def _digest_ok(digest: str, data: bytes) -> bool:
    algo, _, hexd = digest.partition(":")
    return algo in ("sha256", "sha512") and hashlib.new(algo, data).hexdigest() == hexd


class DockerSource:
    """One image of one registry. Thread-safe: blobs may be opened from several threads.

    :param insecure: ``--insecure-options`` (``http`` allows plain HTTP, ``tls`` skips certificate checks).
    :param config_dirs: rkt's config dirs, where ``dockerAuth`` credentials are looked up.
    :param debug: show each HTTP request on stderr (``--debug``).
    """

    def __init__(self, ref: DockerReference, display: str, *, insecure: frozenset[str] = frozenset(),
                 config_dirs: tuple[Path, ...] = (), debug: bool = False) -> None:
        self.ref = ref
        self.display = display
        self._allow_http = "http" in insecure
        self._client = HttpClient(verify_tls="tls" not in insecure, debug=debug)
        self._auth = Authenticator(self._client, display,
                                   lambda: find_credentials(ref.registry, ref.repository, config_dirs))
        self._scope = f"repository:{ref.repository}:pull"
        self._base: str | None = None
        self._lock = threading.Lock()

    @contextmanager
    def _named(self) -> Iterator[None]:
        """Name the image in every error raised inside."""
        try:
            yield
        except FetchError as e:
            prefix = f'image "{self.display}": '
            if str(e).startswith(prefix):
                raise
            raise type(e)(prefix + str(e)) from None

    # -- the /v2/ ping -------------------------------------------------------------------------
    def _ping(self, scheme: str) -> str:
        base = f"{scheme}://{self.ref.api_host}"
        r, _ = self._client.open(base + "/v2/")
        try:
            body = r.read(_ERROR_MAX)
        finally:
            r.release_conn()
        if r.status == 401:
            self._auth.challenged(r.headers.get("WWW-Authenticate", ""), self._scope)
        elif r.status >= 300:
            raise RegistryError(f"{self.ref.api_host} does not answer as a Docker registry (v2 API): "
                                f"{registry_reason(r.status, body)}")
        return base

    def _endpoint(self) -> str:
        with self._lock:
            if self._base is None:
                try:
                    self._base = self._ping("https")
                except TLSFailed as e:
                    if e.untrusted or not self._allow_http:
                        hint = "" if e.untrusted else "; a plain-HTTP registry needs --insecure-options=http"
                        raise ConnectError(f"{e}{hint}") from None
                    self._base = self._ping("http")
                except ConnectError:
                    if not self._allow_http:
                        raise
                    self._base = self._ping("http")
            return self._base

    def _get(self, path: str, headers: dict[str, str], *, decode: bool = True) -> urllib3.BaseHTTPResponse:
        """GET a path of the repository's API, authenticating as the registry asks; a 2xx reply."""
        url = self._endpoint() + path
        for attempt in range(2):
            r, _ = self._client.open(url, {**headers, **self._auth.header(self._scope)}, decode=decode)
            if r.status < 300:
                return r
            try:
                body = r.read(_ERROR_MAX)
            finally:
                r.release_conn()
            if r.status == 401 and attempt == 0:
                self._auth.challenged(r.headers.get("WWW-Authenticate", ""), self._scope)
                continue
            if r.status == 401:
                raise self._auth.denied(registry_reason(r.status, body))
            error = ManifestUnknown if r.status == 404 else RegistryError
            raise error(f"the registry says: {registry_reason(r.status, body)}")
        raise AssertionError("unreachable")

    # -- the image-source protocol -------------------------------------------------------------
    def fetch_manifest(self, ref: str | None = None) -> tuple[str, bytes]:
        """(media type, raw bytes) of the manifest or index the reference names, or of digest ``ref``."""
        reference = ref or self.ref.ref
        with self._named():
            r = self._get(f"/v2/{self.ref.repository}/manifests/{reference}", {"Accept": ", ".join(MANIFEST_TYPES)})
            try:
                body = r.read(MANIFEST_MAX + 1)
            except (HTTPError, OSError) as e:
                raise FetchError(f"reading the manifest broke off: {e}") from None
            finally:
                r.release_conn()
            if len(body) > MANIFEST_MAX:
                raise ContentError(f"the manifest is larger than {MANIFEST_MAX >> 20} MiB")
            media_type = self._media_type(r.headers.get("Content-Type", ""), body)
            if reference.startswith(("sha256:", "sha512:")) and not _digest_ok(reference, body):
                raise DigestMismatch(f"the manifest the registry sent does not match its digest {reference}")
            return media_type, body

    @staticmethod
    def _media_type(content_type: str, body: bytes) -> str:
        mt = content_type.partition(";")[0].strip().lower()
        if mt in ("", "application/json", "text/plain", "application/octet-stream"):
            import json

            try:
                doc = json.loads(body)
            except ValueError:
                raise ContentError("the registry sent a manifest that is not JSON") from None
            mt = str(doc.get("mediaType") or "") if isinstance(doc, dict) else ""
            if not mt and isinstance(doc, dict) and doc.get("schemaVersion") == 1:
                mt = _SCHEMA1[1]
        if mt in _SCHEMA1:
            raise ContentError("the image has a Docker schema 1 manifest, which rkt does not read; "
                               "push it again with a current docker or skopeo")
        if mt not in MANIFEST_TYPES:
            raise ContentError(f"the registry sent a manifest of unknown type {mt or '(none)'!r}")
        return mt

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        """A stream of the blob's bytes as stored (no transfer decoding); the caller checks the digest."""
        with self._named():
            r = self._get(f"/v2/{self.ref.repository}/blobs/{digest}", {"Accept": "*/*"}, decode=False)
            length = r.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != size and size >= 0:
                r.close()
                r.release_conn()
                raise ContentError(f"blob {digest}: the registry sends {length} bytes, the manifest says {size}")
            return cast(BinaryIO, ResponseStream(r, f'image "{self.display}": blob {digest}', size))

    def close(self) -> None:
        self._client.close()
