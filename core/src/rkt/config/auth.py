"""``rktKind: auth`` and ``rktKind: dockerAuth``: credentials for fetching images.

``auth`` documents (in ``auth.d``) give credentials per host: ``domains`` (list),
``type`` (``basic`` with ``credentials.user``/``password``, or ``oauth`` with
``credentials.token``). ``dockerAuth`` documents (in ``docker-auth.d``, or ``auth.d`` as
rkt read them) give ``registries`` (list) and ``credentials.user``/``password``.

Overrides go per domain or registry: a later layer replaces an earlier one's entry for
the same host; the same host in two files of one layer is an error.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

from rkt.config import files
from rkt.config.errors import ConfigError
from rkt_sdk.record import Record

AUTH_SUBDIR = "auth.d"
DOCKER_SUBDIR = "docker-auth.d"
_AUTH_FIELDS = {"domains", "type", "credentials"}
_DOCKER_FIELDS = {"registries", "credentials"}
_CREDENTIAL_KEYS = {"basic": ("user", "password"), "oauth": ("token",)}


class Credentials(Record):
    """Credentials for one host: ``type`` is ``basic`` or ``oauth``; ``source`` the file they came from."""

    type: str
    values: Mapping[str, str]
    source: Path

    def header(self) -> str:
        """The HTTP ``Authorization`` header value."""
        if self.type == "oauth":
            return f"Bearer {self.values['token']}"
        raw = f"{self.values['user']}:{self.values['password']}".encode()
        return "Basic " + base64.b64encode(raw).decode()


class AuthConfig(Record):
    """Credentials by host (``auth``) and by Docker registry (``dockerAuth``)."""

    hosts: Mapping[str, Credentials]
    registries: Mapping[str, Credentials]

    def for_host(self, host: str) -> Credentials | None:
        return self.hosts.get(host)

    def for_registry(self, registry: str) -> Credentials | None:
        return self.registries.get(registry)

    def to_entries(self) -> list[dict[str, object]]:
        """The ``auth`` and ``dockerAuth`` entries ``rkt config`` prints, one per host."""
        out: list[dict[str, object]] = []
        for host, c in sorted(self.hosts.items()):
            out.append({"rktVersion": files.VERSION, "rktKind": "auth", "domains": [host], "type": c.type,
                        "credentials": dict(c.values)})
        for reg, c in sorted(self.registries.items()):
            out.append({"rktVersion": files.VERSION, "rktKind": "dockerAuth", "registries": [reg],
                        "credentials": dict(c.values)})
        return out


def _credentials(doc: files.Document, type_: str) -> Credentials:
    raw = doc.data.get("credentials")
    if raw is None:
        raise doc.field_error("credentials", "must be set")
    if not isinstance(raw, dict):
        raise doc.field_error("credentials", f"must be an object, got {json.dumps(raw)}")
    keys = _CREDENTIAL_KEYS[type_]
    for k in raw:
        if k not in keys:
            raise doc.field_error(f"credentials.{k}", f'unknown for type "{type_}" (known: {", ".join(keys)})')
    for k in keys:
        v = raw.get(k)
        if not isinstance(v, str) or not v:
            raise doc.field_error(f"credentials.{k}", "must be a non-empty string")
    return Credentials(type_, {k: raw[k] for k in keys}, doc.path)


def _merge(table: dict[str, Credentials], layer_of: dict[str, tuple[int, Path]], doc: files.Document,
           field: str, names: tuple[str, ...], creds: Credentials) -> None:
    for name in names:
        prev = layer_of.get(name)
        if prev is not None and prev[0] == doc.layer:
            raise ConfigError(f'{doc.path}: field "{field}": "{name}" is already configured in {prev[1]} '
                              "of the same config directory")
        layer_of[name] = (doc.layer, doc.path)
        table[name] = creds


def load_auth(config_dirs: tuple[Path, ...]) -> AuthConfig:
    """Merge every ``auth`` and ``dockerAuth`` document of the config dirs."""
    docs = files.load(config_dirs, AUTH_SUBDIR, ("auth", "dockerAuth"))
    docs += files.load(config_dirs, DOCKER_SUBDIR, ("dockerAuth",))
    docs.sort(key=lambda d: d.layer)
    hosts: dict[str, Credentials] = {}
    registries: dict[str, Credentials] = {}
    host_layer: dict[str, tuple[int, Path]] = {}
    reg_layer: dict[str, tuple[int, Path]] = {}
    for doc in docs:
        if doc.kind == "auth":
            files.check_fields(doc, _AUTH_FIELDS)
            domains = files.string_list_field(doc, "domains")
            type_ = files.string_field(doc, "type", required=True)
            assert type_ is not None
            if type_ not in _CREDENTIAL_KEYS:
                raise doc.field_error("type", f'must be "basic" or "oauth", got {type_!r}')
            _merge(hosts, host_layer, doc, "domains", domains, _credentials(doc, type_))
        else:
            files.check_fields(doc, _DOCKER_FIELDS)
            regs = files.string_list_field(doc, "registries")
            _merge(registries, reg_layer, doc, "registries", regs, _credentials(doc, "basic"))
    return AuthConfig(hosts, registries)
