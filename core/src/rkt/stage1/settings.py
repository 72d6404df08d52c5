"""Per-host flavor settings and the default flavor, from the ``stage1`` config kind.

Config files live in ``stage1.d/*.json`` of each config directory (system < local <
user); a file of ``rktKind: stage1`` may set the default flavor (``name``, optional
``version``) and, under ``settings``, values keyed by flavor name::

    {"rktKind": "stage1", "rktVersion": "v1", "name": "coreos",
     "settings": {"qemu": {"accel": "tcg"}}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rkt_sdk.errors import RktError

if TYPE_CHECKING:
    from rkt.stage1.loader import Flavor

BUILTIN_DEFAULT = "coreos"


class ConfigError(RktError):
    """A config file is malformed; the message names the file and the field."""


def _files(config_dirs: tuple[Path, ...]) -> list[Path]:
    out: list[Path] = []
    for d in config_dirs:
        sd = d / "stage1.d"
        try:
            names = sorted(n for n in os.listdir(sd) if n.endswith(".json"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        out.extend(sd / n for n in names)
    return out


def load_stage1_docs(config_dirs: tuple[Path, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """Every ``stage1`` config document, lowest precedence first."""
    docs = []
    for f in _files(config_dirs):
        try:
            doc = json.loads(f.read_text())
        except ValueError as e:
            raise ConfigError(f"{f}: invalid JSON: {e}") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"{f}: must hold a JSON object")
        if doc.get("rktKind") != "stage1":
            raise ConfigError(f'{f}: field "rktKind": expected "stage1", got {doc.get("rktKind")!r}')
        if doc.get("rktVersion") != "v1":
            raise ConfigError(f'{f}: field "rktVersion": expected "v1", got {doc.get("rktVersion")!r}')
        known = {"rktKind", "rktVersion", "name", "version", "location", "settings"}
        for k in doc:
            if k not in known:
                raise ConfigError(f'{f}: unknown field "{k}"')
        docs.append((f, doc))
    return docs


def default_flavor(config_dirs: tuple[Path, ...]) -> str:
    """The flavor to use when no ``--stage1-*`` flag names one."""
    name = BUILTIN_DEFAULT
    for f, doc in load_stage1_docs(config_dirs):
        if "name" in doc:
            if not isinstance(doc["name"], str) or not doc["name"]:
                raise ConfigError(f'{f}: field "name": must be a non-empty string')
            name = doc["name"]
    return name


_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "path": (str,), "int": (int,), "bool": (bool,),
                                        "list": (list,), "choice": (str,), "float": (int, float)}


def validate_settings(schema: list[Any], raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check ``raw`` against the flavor's declared fields and fill defaults."""
    fields = {f.name: f for f in schema}
    out = {f.name: f.default for f in schema}
    for k, v in raw.items():
        f = fields.get(k)
        if f is None:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f'{where}: unknown setting "{k}" (known settings: {known})')
        types = _TYPES.get(f.type, (object,))
        if (isinstance(v, bool) and f.type in ("int", "float")) or not isinstance(v, types):
            raise ConfigError(f'{where}: setting "{k}" must be of type {f.type}, got {json.dumps(v)}')
        if f.type == "choice" and v not in f.choices:
            raise ConfigError(f'{where}: setting "{k}" must be one of {", ".join(f.choices)}, got {v!r}')
        if f.type == "path" and not str(v).startswith("/"):
            raise ConfigError(f'{where}: setting "{k}" must be an absolute path, got {v!r}')
        out[k] = v
    return out


def flavor_settings(flavor: Flavor, config_dirs: tuple[Path, ...]) -> dict[str, Any]:
    """The flavor's settings, merged over config files (later files win field by field)."""
    schema = flavor.config_schema()
    merged: dict[str, Any] = {f.name: f.default for f in schema}
    for f, doc in load_stage1_docs(config_dirs):
        s = doc.get("settings")
        if s is None:
            continue
        if not isinstance(s, dict):
            raise ConfigError(f'{f}: field "settings": must be an object keyed by flavor name')
        mine = s.get(flavor.name)
        if mine is None:
            continue
        if not isinstance(mine, dict):
            raise ConfigError(f'{f}: field "settings.{flavor.name}": must be an object')
        validate_settings(schema, mine, f'{f}: field "settings.{flavor.name}"')
        merged.update(mine)
    return merged
