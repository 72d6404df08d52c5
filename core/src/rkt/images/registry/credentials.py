"""Where registry credentials come from, first match wins.

1. rkt's own config: ``rktKind: dockerAuth`` documents (``registries`` and
   ``credentials.user``/``password``) in the layered config dirs.
2. The containers auth file: ``$REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/auth.json``.
3. Docker's: ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``.

Both files hold ``{"auths": {KEY: {"auth": base64("user:password")}}}`` (or an
``"identitytoken"``, an OAuth2 refresh token, instead of ``"auth"``); a key is a host
(``registry.example:5000``), a URL (``https://index.docker.io/v1/``) or, in the containers
file, a host and repository namespace (``registry.example/team``), the longest match winning.
A file may instead name Docker credential helpers: ``credHelpers`` (per host) is asked
first, then ``auths``, then ``credsStore`` (see :mod:`.credhelpers`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

from rkt.images.docker_reference import DOCKER_HUB, DOCKER_HUB_API
from rkt.images.registry.credhelpers import DOCKER_HUB_SERVER, from_helper
from rkt.images.registry.errors import AuthError
from rkt.images.registry.login import RegistryCredentials

#: Names users and credential files give Docker Hub.
DOCKER_HUB_ALIASES = (DOCKER_HUB, DOCKER_HUB_API, "index.docker.io")


def auth_files() -> list[Path]:
    """The credential files to read, in order (they need not exist)."""
    out: list[Path] = []
    env = os.environ.get("REGISTRY_AUTH_FILE")
    if env:
        out.append(Path(env))
    elif os.environ.get("XDG_RUNTIME_DIR"):
        out.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker_dir = os.environ.get("DOCKER_CONFIG")
    out.append(Path(docker_dir) / "config.json" if docker_dir else Path.home() / ".docker" / "config.json")
    return out


def _hosts(registry: str) -> tuple[str, ...]:
    return DOCKER_HUB_ALIASES if registry in DOCKER_HUB_ALIASES else (registry,)


def _normal_key(key: str) -> str:
    """``https://index.docker.io/v1/`` -> ``index.docker.io``; ``host/ns`` stays."""
    key = key.partition("://")[2] if "://" in key else key
    key = key.rstrip("/")
    for suffix in ("/v1", "/v2"):
        key = key.removesuffix(suffix)
    return key


def _decode(path: Path, key: str, entry: object) -> RegistryCredentials | None:
    if not isinstance(entry, dict):
        raise AuthError(f'{path}: "auths" entry "{key}" must be an object')
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return RegistryCredentials("<token>", "", str(path), token)
    auth = entry.get("auth")
    if not auth:
        return None
    try:
        user, sep, password = base64.b64decode(str(auth), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError(f'{path}: "auths" entry "{key}": "auth" is not base64 of user:password') from None
    if not sep or not user:
        raise AuthError(f'{path}: "auths" entry "{key}": "auth" is not base64 of user:password')
    return RegistryCredentials(user, password, str(path))


def from_auth_file(path: Path, registry: str, repository: str) -> RegistryCredentials | None:
    """The credentials ``path`` holds for the image, or ``None`` (also when there is no such file)."""
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AuthError(f"{path}: cannot read the credentials file: {e.strerror}") from None
    except ValueError as e:
        raise AuthError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        return None
    helpers = doc.get("credHelpers")
    helpers = helpers if isinstance(helpers, dict) else {}
    for host in _hosts(registry):
        if isinstance(helpers.get(host), str):
            return from_helper(helpers[host], _server(host), path)
    found = _from_auths(path, doc.get("auths"), registry, repository)
    store = doc.get("credsStore")
    if found is None and isinstance(store, str) and store:
        return from_helper(store, _server(registry), path)
    return found


def _server(host: str) -> str:
    """The server name a credential helper is asked about."""
    return DOCKER_HUB_SERVER if host in DOCKER_HUB_ALIASES else host


def _from_auths(path: Path, auths: object, registry: str, repository: str) -> RegistryCredentials | None:
    if not isinstance(auths, dict):
        return None
    by_key = {_normal_key(k): (k, v) for k, v in auths.items()}
    parts = repository.split("/")
    for host in _hosts(registry):
        for n in range(len(parts), -1, -1):
            want = "/".join([host, *parts[:n]])
            if want in by_key:
                found = _decode(path, *by_key[want])
                if found is not None:
                    return found
    return None


def from_rkt_config(config_dirs: tuple[Path, ...], registry: str) -> RegistryCredentials | None:
    """``dockerAuth`` credentials for the registry from rkt's config dirs."""
    from rkt.config.auth import load_auth

    conf = load_auth(config_dirs)
    for host in _hosts(registry):
        c = conf.for_registry(host)
        if c is not None:
            return RegistryCredentials(c.values["user"], c.values["password"], str(c.source))
    return None


def find_credentials(registry: str, repository: str,
                     config_dirs: tuple[Path, ...] = ()) -> RegistryCredentials | None:
    """The first credentials configured for ``registry`` (``docker.io`` for Docker Hub) and repository."""
    found = from_rkt_config(config_dirs, registry) if config_dirs else None
    if found is not None:
        return found
    for path in auth_files():
        found = from_auth_file(path, registry, repository)
        if found is not None:
            return found
    return None

