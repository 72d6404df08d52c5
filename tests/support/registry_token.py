"""A small token service for the test registry's Bearer auth (the Docker token protocol).

``GET /token?service=S&scope=repository:REPO:pull`` answers ``{"token": JWT}``; the JWT is
signed with a key whose self-signed certificate is the registry's ``rootcertbundle`` and
carries that certificate in its ``x5c`` header. Users (name -> password) get pull and push
on every repository; anonymous callers get pull on the repositories in ``public``. A wrong
password gets 401. ``POST /token`` with ``grant_type=refresh_token`` (OAuth2) trades a token of
``refresh_tokens`` (token -> user) for an ``access_token``. Every request is recorded
(``requests``) so tests can check what came.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.registry_keys import new_key, pem_cert, self_signed

SERVICE = "rkt-test-registry"
ISSUER = "rkt-test-token-issuer"


class TokenService:
    """The service, started by :meth:`start` on 127.0.0.1 (a free port) and stopped by :meth:`stop`."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None,
                 public: tuple[str, ...] = (), refresh_tokens: dict[str, str] | None = None) -> None:
        self.users = dict(users or {})
        self.refresh_tokens = dict(refresh_tokens or {})
        self.public = public
        self.requests: list[dict[str, Any]] = []
        self._key = new_key()
        self._cert = self_signed(self._key, "rkt test token signer")
        workdir.mkdir(parents=True, exist_ok=True)
        self.rootcertbundle = workdir / "token-signer.crt"
        self.rootcertbundle.write_bytes(pem_cert(self._cert))
        self._server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        """The registry config's ``auth`` section for this service."""
        return {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                          "rootcertbundle": str(self.rootcertbundle)}}

    def start(self) -> TokenService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service._answer(self)

            def do_POST(self) -> None:
                service._answer_oauth(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _user(self, header: str | None) -> tuple[str | None, bool]:
        """(user name or None for anonymous, whether the credentials were good)."""
        if not header or not header.startswith("Basic "):
            return None, True
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, self.users.get(user) == password

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        q = parse_qs(urlsplit(h.path).query)
        user, good = self._user(h.headers.get("Authorization"))
        self.requests.append({"user": user, "scope": q.get("scope", []), "service": q.get("service", [])})
        if not good:
            self._reply(h, 401, {"details": "invalid username or password"})
            return
        access = []
        for scope in q.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if user is not None:
                granted = [a for a in actions.split(",") if a in ("pull", "push")]
            else:
                granted = ["pull"] if name in self.public and "pull" in actions.split(",") else []
            access.append({"type": kind, "name": name, "actions": granted})
        self._reply(h, 200, {"token": self._token(user or "", access), "expires_in": 300})

    def _answer_oauth(self, h: BaseHTTPRequestHandler) -> None:
        form = parse_qs(h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode())
        user = self.refresh_tokens.get(form.get("refresh_token", [""])[0])
        self.requests.append({"user": user, "scope": form.get("scope", []), "service": form.get("service", []),
                              "grant": form.get("grant_type", [])})
        if form.get("grant_type") != ["refresh_token"] or user is None:
            self._reply(h, 401, {"details": "invalid refresh token"})
            return
        access = []
        for scope in form.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a == "pull"]})
        self._reply(h, 200, {"access_token": self._token(user, access), "expires_in": 300})

    def _token(self, subject: str, access: list[dict[str, Any]]) -> str:
        import jwt
        from cryptography.hazmat.primitives import serialization

        now = int(time.time())
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        x5c = base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()
        return str(jwt.encode(claims, self._key, algorithm="ES256", headers={"x5c": [x5c]}))

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
