"""Reading the ``*.json`` documents of one config subdirectory across the layered config dirs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rkt.config.errors import ConfigError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The only ``rktVersion`` of every kind this rkt reads.
VERSION = "v1"


class Document(Record):
    """One config file: where it is, which layer it belongs to (0 = system), and its JSON object."""

    path: Path
    layer: int
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data["rktKind"])

    def field_error(self, name: str, what: str) -> ConfigError:
        """An error naming this file and one of its fields."""
        return ConfigError(f'{self.path}: field "{name}": {what}')


def json_files(config_dirs: tuple[Path, ...], subdir: str) -> list[tuple[int, Path]]:
    """``(layer, path)`` of every ``*.json`` file in ``<dir>/<subdir>``, lowest precedence first."""
    out: list[tuple[int, Path]] = []
    for layer, d in enumerate(config_dirs):
        sd = d / subdir
        try:
            names = sorted(n for n in os.listdir(sd) if n.endswith(".json"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError:
            raise ConfigError(f"{sd}: cannot read the directory: permission denied") from None
        out.extend((layer, sd / n) for n in names if not (sd / n).is_dir())
    return out


def read_document(path: Path, layer: int, kinds: tuple[str, ...]) -> Document:
    """Parse one file and check its ``rktKind`` (one of ``kinds``) and ``rktVersion``."""
    try:
        doc = json.loads(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
        raise ConfigError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: must hold a JSON object")
    kind = doc.get("rktKind")
    if kind is None or kind == "":
        raise ConfigError(f'{path}: field "rktKind": must be set')
    if kind not in kinds:
        want = " or ".join(f'"{k}"' for k in kinds)
        raise ConfigError(f'{path}: field "rktKind": expected {want}, got {json.dumps(kind)}')
    version = doc.get("rktVersion")
    if version is None or version == "":
        raise ConfigError(f'{path}: field "rktVersion": must be set')
    if version != VERSION:
        raise ConfigError(f'{path}: field "rktVersion": kind "{kind}" has only version "{VERSION}", '
                          f"got {json.dumps(version)}")
    return Document(path, layer, doc)


def load(config_dirs: tuple[Path, ...], subdir: str, kinds: tuple[str, ...]) -> list[Document]:
    """Every document of ``subdir``, lowest precedence first."""
    return [read_document(p, layer, kinds) for layer, p in json_files(config_dirs, subdir)]


def check_fields(doc: Document, allowed: set[str]) -> None:
    """Reject fields the document's kind does not define."""
    for k in doc.data:
        if k not in allowed and k not in ("rktKind", "rktVersion"):
            known = ", ".join(sorted(allowed))
            raise doc.field_error(k, f'unknown field for kind "{doc.kind}" (known fields: {known})')


def string_field(doc: Document, name: str, *, required: bool = False) -> str | None:
    """A non-empty string field, or ``None`` when absent and not required."""
    v = doc.data.get(name)
    if v is None:
        if required:
            raise doc.field_error(name, "must be set")
        return None
    if not isinstance(v, str) or not v:
        raise doc.field_error(name, f"must be a non-empty string, got {json.dumps(v)}")
    return v


def string_list_field(doc: Document, name: str) -> tuple[str, ...]:
    """A required, non-empty list of non-empty strings."""
    v = doc.data.get(name)
    if v is None:
        raise doc.field_error(name, "must be set")
    if not isinstance(v, list) or not v or not all(isinstance(s, str) and s for s in v):
        raise doc.field_error(name, f"must be a non-empty list of non-empty strings, got {json.dumps(v)}")
    return tuple(v)
