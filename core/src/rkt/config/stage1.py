"""Per-host flavor settings and the default flavor, from the ``stage1`` config kind.

Config files live in ``stage1.d/*.json`` of each config directory (system < local <
user); a file of ``rktKind: stage1`` may set the default flavor (``name``, optional
``version``) and, under ``settings``, values keyed by flavor name::

    {"rktKind": "stage1", "rktVersion": "v1", "name": "coreos",
     "settings": {"qemu": {"accel": "tcg"}}}

Later files win: ``name`` and ``version`` go together (a file naming a flavor drops an
earlier file's ``version``), settings merge field by field. Each flavor declares the
settings it accepts through ``rkt_stage1_config_schema``; anything else is rejected with an
error naming the file and the field. rkt's own files name a stage1 image (``name``
``coreos.com/rkt/stage1-fly`` with rkt's ``version``, or a ``location`` such as
``/usr/lib/rkt/stage1-images/stage1-kvm.aci``): they choose the flavor of that kind
(:mod:`rkt.config.stage1_images`) and rkt's version is not a pin.
"""

from __future__ import annotations

import json

from rkt.config import files
from rkt.config.errors import ConfigError
from rkt_sdk.errors import RktError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any, Protocol

    class SchemaOwner(Protocol):
        """What reading a flavor's settings needs of it (a loaded :class:`rkt.stage1.loader.Flavor`)."""

        @property
        def name(self) -> str: ...
        def config_schema(self) -> list[Any]: ...

__all__ = ["BUILTIN_DEFAULT", "ConfigError", "PinnedVersionMismatch", "Stage1Choice", "check_pinned_version",
           "configured_stage1", "default_flavor", "flavor_settings", "load_stage1_docs", "raw_settings",
           "validate_settings"]

BUILTIN_DEFAULT = "coreos"
SUBDIR = "stage1.d"
_FIELDS = {"name", "version", "location", "settings"}

#: ConfigField types and the JSON types they accept.
FIELD_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "path": (str,), "int": (int,), "bool": (bool,),
                                            "list": (list,), "choice": (str,), "float": (int, float)}


class SchemaError(RktError):
    """A flavor declares a malformed settings schema (a bug of the flavor, not of the config)."""


class Stage1Choice(Record):
    """The default flavor the config files choose, and which files chose it (``None``: built in)."""

    name: str = BUILTIN_DEFAULT
    version: str | None = None
    source: Path | None = None

    def to_entry(self) -> dict[str, object]:
        """The ``stage1`` entry ``rkt config`` prints."""
        e: dict[str, object] = {"rktVersion": files.VERSION, "rktKind": "stage1", "name": self.name}
        if self.version is not None:
            e["version"] = self.version
        return e


def _check(doc: files.Document) -> files.Document:
    files.check_fields(doc, _FIELDS)
    files.string_field(doc, "name")
    files.string_field(doc, "version")
    files.string_field(doc, "location")
    s = doc.data.get("settings")
    if s is not None:
        if not isinstance(s, dict):
            raise doc.field_error("settings", f"must be an object keyed by flavor name, got {json.dumps(s)}")
        for flavor, mine in s.items():
            if not isinstance(mine, dict):
                raise doc.field_error(f"settings.{flavor}", f"must be an object, got {json.dumps(mine)}")
    return doc


def stage1_documents(config_dirs: tuple[Path, ...]) -> list[files.Document]:
    """Every well-formed ``stage1`` document, lowest precedence first."""
    return [_check(d) for d in files.load(config_dirs, SUBDIR, ("stage1",))]


def load_stage1_docs(config_dirs: tuple[Path, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """Every ``stage1`` config document as ``(file, object)``, lowest precedence first."""
    return [(d.path, d.data) for d in stage1_documents(config_dirs)]


def configured_stage1(config_dirs: tuple[Path, ...]) -> Stage1Choice:
    """The default flavor (and pinned version) the config files choose."""
    from rkt.config.stage1_images import flavor_of_location, flavor_of_name, is_image_name

    choice = Stage1Choice()
    for doc in stage1_documents(config_dirs):
        name = doc.data.get("name")
        version = doc.data.get("version")
        if name is None and doc.data.get("location"):
            name = flavor_of_location(doc.data["location"])
            version = None
        elif name is not None and is_image_name(name):  # rkt's image name: its version is rkt's
            name, version = flavor_of_name(name), None
        if name is not None:
            choice = Stage1Choice(name, version, doc.path)
        elif version is not None:
            choice = Stage1Choice(choice.name, version, doc.path)
    return choice


class PinnedVersionMismatch(RktError):
    """The config pins a flavor to a version other than the one installed."""


def check_pinned_version(choice: Stage1Choice, name: str, installed: str, dist: str) -> None:
    """Refuse to run flavor ``name`` (``dist`` at version ``installed``) if the config pins another version.

    The pin is the ``version`` of the ``stage1`` config that names the default flavor; it
    applies to that flavor whether it was chosen by default or by ``--stage1-name``.
    """
    if choice.version is None or choice.name != name or choice.version == installed:
        return
    raise PinnedVersionMismatch(f'{choice.source}: field "version": the config pins flavor "{name}" to version '
                                f"{choice.version}, but {dist} {installed} is installed")


def default_flavor(config_dirs: tuple[Path, ...]) -> str:
    """The flavor to use when no ``--stage1-*`` flag names one."""
    return configured_stage1(config_dirs).name


def raw_settings(config_dirs: tuple[Path, ...]) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """Unvalidated settings objects by flavor name, as ``(file, object)`` lowest precedence first."""
    out: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for doc in stage1_documents(config_dirs):
        for flavor, mine in (doc.data.get("settings") or {}).items():
            out.setdefault(flavor, []).append((doc.path, mine))
    return out


def _check_schema(flavor_name: str, schema: list[Any]) -> None:
    from rkt_sdk.types import ConfigField

    for f in schema:
        if not isinstance(f, ConfigField):
            raise SchemaError(f"flavor {flavor_name!r} declares a setting that is not a ConfigField: {f!r}")
        if f.type not in FIELD_TYPES:
            raise SchemaError(f"flavor {flavor_name!r} declares setting {f.name!r} of unknown type {f.type!r} "
                              f"(types: {', '.join(FIELD_TYPES)})")
        if f.type == "choice" and not f.choices:
            raise SchemaError(f"flavor {flavor_name!r} declares choice setting {f.name!r} without choices")


def _value_problem(f: Any, v: Any) -> str | None:
    types = FIELD_TYPES.get(f.type, (object,))
    if (isinstance(v, bool) and f.type in ("int", "float")) or not isinstance(v, types):
        return f"must be of type {f.type}, got {json.dumps(v)}"
    if f.type == "choice" and v not in f.choices:
        return f"must be one of {', '.join(f.choices)}, got {json.dumps(v)}"
    if f.type == "path" and not str(v).startswith("/"):
        return f"must be an absolute path, got {json.dumps(v)}"
    return None


def validate_settings(schema: list[Any], raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check ``raw`` against the flavor's declared fields and fill defaults.

    :param where: the file and field prefix for messages, e.g. ``'/etc/rkt/stage1.d/a.json: field "settings.fly"'``.
    """
    fields = {f.name: f for f in schema}
    out = {f.name: f.default for f in schema}
    prefix, _, field = where.partition(": field ")
    field = field.strip('"')
    for k, v in raw.items():
        name = f'"{field}.{k}"' if field else f'"{k}"'
        f = fields.get(k)
        if f is None:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f"{prefix}: field {name}: unknown setting (known settings: {known})")
        problem = _value_problem(f, v)
        if problem:
            raise ConfigError(f"{prefix}: field {name}: {problem}")
        out[k] = v
    return out


def flavor_settings(flavor: SchemaOwner, config_dirs: tuple[Path, ...]) -> dict[str, Any]:
    """The flavor's settings, merged over config files (later files win field by field)."""
    schema = flavor.config_schema()
    _check_schema(flavor.name, schema)
    merged: dict[str, Any] = {f.name: f.default for f in schema}
    for path, mine in raw_settings(config_dirs).get(flavor.name, []):
        validate_settings(schema, mine, f'{path}: field "settings.{flavor.name}"')
        merged.update(mine)
    return merged
