"""Registry authentication: Bearer tokens (the Docker token protocol) and Basic auth.

The ``/v2/`` ping or any ``401`` reply carries a ``WWW-Authenticate`` challenge. For
``Bearer realm=...,service=...`` a token is asked of the realm for each scope
(``repository:REPO:pull``), with Basic credentials when some are configured and anonymously
otherwise; tokens are kept per scope for the fetch. For ``Basic`` the credentials go with
every request. A reply of 401 to a request that carried them means they were refused.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from rkt.images.registry.challenge import Challenge, parse_challenges
from rkt.images.registry.errors import AuthError, registry_reason
from rkt.images.registry.login import RegistryCredentials
from rkt.images.registry.transport import HttpClient

_TOKEN_MAX = 1 << 20
_CONFIG_HINT = "configure them in a dockerAuth config file, REGISTRY_AUTH_FILE or ~/.docker/config.json"


def basic_header(c: RegistryCredentials) -> str:
    return "Basic " + base64.b64encode(f"{c.user}:{c.password}".encode()).decode()


class Authenticator:
    """The ``Authorization`` header for each scope of one registry (thread-safe).

    :param name: how messages name the image (or registry).
    :param credentials: called once, when credentials are first needed.
    """

    def __init__(self, client: HttpClient, name: str,
                 credentials: Callable[[], RegistryCredentials | None]) -> None:
        self._client = client
        self._prefix = f'image "{name}": '
        self._lookup = credentials
        self._creds: RegistryCredentials | None = None
        self._looked_up = False
        self._challenge: Challenge | None = None
        self._headers: dict[str, str] = {}
        self._lock = threading.Lock()

    def credentials(self) -> RegistryCredentials | None:
        if not self._looked_up:
            self._creds = self._lookup()
            self._looked_up = True
        return self._creds

    def header(self, scope: str) -> dict[str, str]:
        """The header to send for ``scope`` (empty when the registry asked for nothing yet, or
        asked for Basic auth and no credentials are configured: the request goes anonymously)."""
        with self._lock:
            if self._challenge is None:
                return {}
            value = self._headers.get(scope)
            if value is None:
                value = self._authorize(scope)
                self._headers[scope] = value
            return {"Authorization": value} if value else {}

    def challenged(self, www_authenticate: str, scope: str) -> None:
        """A reply was 401 with this challenge: the next :meth:`header` for ``scope`` answers it afresh."""
        found = [c for c in parse_challenges(www_authenticate) if c.scheme in ("bearer", "basic")]
        if not found:
            raise AuthError(f"{self._prefix}the registry asks for authentication this rkt does not speak "
                            f"({www_authenticate or 'no WWW-Authenticate header'})")
        with self._lock:
            self._challenge = found[0]
            self._headers.pop(scope, None)

    def denied(self, reason: str) -> AuthError:
        """The error for a request refused even with the credentials (or anonymous token) it carried."""
        c = self.credentials()
        if (c is None or c.identity_token) and self._challenge is not None and self._challenge.scheme == "basic":
            return AuthError(f"{self._prefix}the registry needs a user name and password; {_CONFIG_HINT}")
        if c is None:
            return AuthError(f"{self._prefix}access denied ({reason}); the registry may need credentials: "
                             f"{_CONFIG_HINT}")
        return AuthError(f"{self._prefix}access denied to user \"{c.user}\" (credentials from {c.source}): {reason}")

    def _authorize(self, scope: str) -> str:
        """The ``Authorization`` value for ``scope`` (``""``: none to send)."""
        assert self._challenge is not None
        if self._challenge.scheme == "basic":
            c = self.credentials()
            return "" if c is None or c.identity_token else basic_header(c)
        return "Bearer " + self._token(self._challenge, scope)

    def _token(self, ch: Challenge, scope: str) -> str:
        realm = ch.params.get("realm")
        if not realm or urlsplit(realm).scheme not in ("http", "https"):
            raise AuthError(f"{self._prefix}the registry's Bearer challenge has no usable realm ({realm!r})")
        query = {k: v for k, v in (("service", ch.params.get("service")), ("scope", scope)) if v}
        headers = {"Accept": "application/json"}
        c = self.credentials()
        if c is not None and c.identity_token:  # OAuth2: trade the refresh token for an access token
            form = {"grant_type": "refresh_token", "refresh_token": c.identity_token, "client_id": "rkt", **query}
            r, _ = self._client.open(realm, {**headers, "Content-Type": "application/x-www-form-urlencoded"},
                                     method="POST", body=urlencode(form).encode())
        else:
            if c is not None:
                headers["Authorization"] = basic_header(c)
            r, _ = self._client.open(realm + ("&" if urlsplit(realm).query else "?") + urlencode(query), headers)
        try:
            body = r.read(_TOKEN_MAX + 1)
        finally:
            r.release_conn()
        if r.status != 200:
            raise self._token_refused(c, r.status, body)
        try:
            doc = json.loads(body)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise AuthError(f"{self._prefix}the registry's token service sent no token")
        return token

    def _token_refused(self, c: RegistryCredentials | None, status: int, body: bytes) -> AuthError:
        reason = registry_reason(status, body)
        if status not in (401, 403):
            return AuthError(f"{self._prefix}the registry's token service failed: {reason}")
        if c is None:
            return AuthError(f"{self._prefix}the registry's token service refused anonymous access ({reason}); "
                             f"{_CONFIG_HINT}")
        who = "the identity token" if c.identity_token else f'the credentials of user "{c.user}"'
        return AuthError(f"{self._prefix}the registry's token service refused {who} (from {c.source}): {reason}")
