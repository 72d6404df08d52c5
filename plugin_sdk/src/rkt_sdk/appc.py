"""The appc data model: image manifests and pod manifests.

These are the JSON documents rkt reads from an ACI (``manifest``) and writes into each
pod directory (``pod``). Parsing validates as the appc spec and rkt did; an invalid
document raises :class:`~rkt_sdk.errors.ManifestError` naming the field.

This module holds the name rules, the field readers and the image manifest with its app;
the pod manifest's types live in :mod:`rkt_sdk.podmanifest` and are importable from here
too (``from rkt_sdk.appc import PodManifest``), loaded on first use.

Only the standard library is used, so stage0 can parse manifests on its hot paths.
"""

from __future__ import annotations

import json
import re

from rkt_sdk.errors import ManifestError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt_sdk.podmanifest import ImageRef as ImageRef
    from rkt_sdk.podmanifest import Mount as Mount
    from rkt_sdk.podmanifest import PodManifest as PodManifest
    from rkt_sdk.podmanifest import PodPort as PodPort
    from rkt_sdk.podmanifest import RuntimeApp as RuntimeApp
    from rkt_sdk.podmanifest import Volume as Volume

#: the pod manifest's types, re-exported from :mod:`rkt_sdk.podmanifest`
_POD_TYPES = frozenset({"ImageRef", "Mount", "PodManifest", "PodPort", "RuntimeApp", "Volume"})

AC_VERSION = "0.8.11"
_AC_NAME = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
_AC_IDENT = re.compile(r"^[a-z0-9]+([-._~/:][a-z0-9]+)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ID = re.compile(r"^sha512-[0-9a-f]{1,128}$")
#: Operating systems and architectures rkt runs images for, in rkt's order (used in messages).
_OS_ARCH_ORDER: dict[str, tuple[str, ...]] = {
    "linux": ("amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64", "ppc64le", "s390x")}
KNOWN_OS = {os_: set(archs) for os_, archs in _OS_ARCH_ORDER.items()}


def _err(where: str, msg: str) -> ManifestError:
    return ManifestError(f"{where}: {msg}")


def _str(d: dict[str, Any], key: str, where: str, *, required: bool = False, default: str = "") -> str:
    v = d.get(key)
    if v is None:
        if required:
            raise _err(where, f'missing field "{key}"')
        return default
    if not isinstance(v, str):
        raise _err(where, f'field "{key}" must be a string')
    return v


def _list(d: dict[str, Any], key: str, where: str) -> list[Any]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise _err(where, f'field "{key}" must be a list')
    return v


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _err(where, "must be a JSON object")
    return v


def validate_ac_name(name: str, where: str) -> str:
    """Check an ACName (app, volume, port and isolator names)."""
    if not name or not _AC_NAME.match(name):
        raise _err(where, f"ACName {name!r} must contain only lower case alphanumeric characters plus \"-\"")
    return name


def validate_ac_identifier(name: str, where: str) -> str:
    """Check an ACIdentifier (image names, label names)."""
    if not name or not _AC_IDENT.match(name):
        raise _err(where, f"ACIdentifier {name!r} must contain only lower case alphanumeric characters plus \"-._~/:\"")
    return name


class KV(Record):
    """A name/value pair (labels, environment variables, annotations, isolator-free maps)."""

    name: str
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value}


def _kvs(items: list[Any], where: str, *, env: bool = False) -> tuple[KV, ...]:
    out: list[KV] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        w = f"{where}[{i}]"
        d = _obj(raw, w)
        name = _str(d, "name", w, required=True)
        value = _str(d, "value", w, required=False)
        if env and not _ENV_NAME.match(name):
            raise _err(w, f"invalid environment variable name {name!r}")
        if name in seen:
            raise _err(w, f"duplicate name {name!r}")
        seen.add(name)
        out.append(KV(name, value))
    return tuple(out)


class MountPoint(Record):
    """A place in an app's filesystem where a volume is expected (image manifest)."""

    name: str
    path: str
    read_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "readOnly": self.read_only}


class Port(Record):
    """A port an app listens on (image manifest)."""

    name: str
    protocol: str
    port: int
    count: int = 1
    socket_activated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "protocol": self.protocol, "port": self.port,
                "count": self.count, "socketActivated": self.socket_activated}


class Isolator(Record):
    """A resource or security isolator (``resource/memory``, ``os/linux/capabilities-retain-set`` ...)."""

    name: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class App(Record):
    """What to run: the ``app`` section of an image manifest or of a pod manifest's app."""

    exec: tuple[str, ...] = ()
    user: str = "0"
    group: str = "0"
    supplementary_gids: tuple[int, ...] = ()
    working_directory: str = ""
    environment: tuple[KV, ...] = ()
    mount_points: tuple[MountPoint, ...] = ()
    ports: tuple[Port, ...] = ()
    isolators: tuple[Isolator, ...] = ()

    def env_dict(self) -> dict[str, str]:
        """The environment as a dict, in manifest order."""
        return {kv.name: kv.value for kv in self.environment}

    def isolator(self, name: str) -> Isolator | None:
        """The isolator of that name, if present."""
        for iso in self.isolators:
            if iso.name == name:
                return iso
        return None

    @classmethod
    def from_dict(cls, raw: Any, where: str = "app") -> App:
        d = _obj(raw, where)
        exec_ = _list(d, "exec", where)
        if not all(isinstance(a, str) for a in exec_):
            raise _err(where, 'field "exec" must be a list of strings')
        if exec_ and not exec_[0].startswith("/"):
            raise _err(where, f"exec: path {exec_[0]!r} must be absolute")
        user = d.get("user", "0")
        group = d.get("group", "0")
        if isinstance(user, int):
            user = str(user)
        if isinstance(group, int):
            group = str(group)
        if not isinstance(user, str) or not user:
            raise _err(where, "user is required")
        if not isinstance(group, str) or not group:
            raise _err(where, "group is required")
        gids = _list(d, "supplementaryGIDs", where)
        if not all(isinstance(g, int) and g >= 0 for g in gids):
            raise _err(where, "supplementaryGIDs must be non-negative integers")
        wd = _str(d, "workingDirectory", where)
        if wd and not wd.startswith("/"):
            raise _err(where, f"workingDirectory {wd!r} must be absolute")
        env = _kvs(_list(d, "environment", where), f"{where}.environment", env=True)
        mps = []
        for i, m in enumerate(_list(d, "mountPoints", where)):
            w = f"{where}.mountPoints[{i}]"
            m = _obj(m, w)
            path = _str(m, "path", w, required=True)
            if not path.startswith("/"):
                raise _err(w, f"path {path!r} must be absolute")
            mps.append(MountPoint(validate_ac_name(_str(m, "name", w, required=True), w), path,
                                  bool(m.get("readOnly", False))))
        ports = []
        for i, p in enumerate(_list(d, "ports", where)):
            w = f"{where}.ports[{i}]"
            p = _obj(p, w)
            num = p.get("port")
            if not isinstance(num, int) or not 1 <= num <= 65535:
                raise _err(w, f"port must be an integer in 1..65535, got {num!r}")
            proto = _str(p, "protocol", w, required=True)
            if proto not in ("tcp", "udp"):
                raise _err(w, f"protocol must be tcp or udp, got {proto!r}")
            count = p.get("count", 1)
            if not isinstance(count, int) or count < 1:
                raise _err(w, "count must be a positive integer")
            ports.append(Port(validate_ac_name(_str(p, "name", w, required=True), w), proto, num,
                              count, bool(p.get("socketActivated", False))))
        isos = []
        for i, iso in enumerate(_list(d, "isolators", where)):
            w = f"{where}.isolators[{i}]"
            iso = _obj(iso, w)
            isos.append(Isolator(validate_ac_identifier(_str(iso, "name", w, required=True), w),
                                 iso.get("value")))
        return cls(tuple(exec_), user, group, tuple(gids), wd, env, tuple(mps), tuple(ports), tuple(isos))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"exec": list(self.exec), "user": self.user, "group": self.group}
        if self.supplementary_gids:
            d["supplementaryGIDs"] = list(self.supplementary_gids)
        if self.working_directory:
            d["workingDirectory"] = self.working_directory
        d["environment"] = [kv.to_dict() for kv in self.environment]
        if self.mount_points:
            d["mountPoints"] = [m.to_dict() for m in self.mount_points]
        if self.ports:
            d["ports"] = [p.to_dict() for p in self.ports]
        if self.isolators:
            d["isolators"] = [i.to_dict() for i in self.isolators]
        return d


class ImageManifest(Record):
    """An ACI's ``manifest``: name, labels, the app to run and annotations."""

    name: str
    labels: tuple[KV, ...] = ()
    app: App | None = None
    annotations: tuple[KV, ...] = ()
    ac_version: str = AC_VERSION

    def label(self, name: str) -> str | None:
        """The value of a label, if present."""
        for kv in self.labels:
            if kv.name == name:
                return kv.value
        return None

    @classmethod
    def from_dict(cls, raw: Any) -> ImageManifest:
        d = _obj(raw, "image manifest")
        kind = d.get("acKind")
        if kind != "ImageManifest":
            raise _err("image manifest", 'missing or bad acKind (must be "ImageManifest")')
        name = validate_ac_identifier(_str(d, "name", "image manifest", required=True), "image manifest: name")
        labels = _kvs(_list(d, "labels", "image manifest"), "image manifest: labels")
        for kv in labels:
            validate_ac_identifier(kv.name, "image manifest: labels")
        lab = {kv.name: kv.value for kv in labels}
        os_, arch = lab.get("os"), lab.get("arch")
        if os_ is None:
            raise ManifestError("missing os label in the image manifest")
        if arch is None:
            raise ManifestError("missing arch label in the image manifest")
        if os_ not in KNOWN_OS:
            raise ManifestError(f'bad os "{os_}" (must be one of: [{" ".join(_OS_ARCH_ORDER)}])')
        if arch not in KNOWN_OS[os_]:
            raise ManifestError(f'bad arch "{arch}" for {os_} (must be one of: [{" ".join(_OS_ARCH_ORDER[os_])}])')
        app = App.from_dict(d["app"], "image manifest: app") if d.get("app") is not None else None
        ann = _kvs(_list(d, "annotations", "image manifest"), "image manifest: annotations")
        return cls(name, labels, app, ann, _str(d, "acVersion", "image manifest", default=AC_VERSION))

    @classmethod
    def from_json(cls, data: bytes | str) -> ImageManifest:
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
            raise ManifestError(f"image manifest: invalid JSON: {e}") from None
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"acKind": "ImageManifest", "acVersion": self.ac_version, "name": self.name,
                             "labels": [kv.to_dict() for kv in self.labels]}
        if self.app is not None:
            d["app"] = self.app.to_dict()
        if self.annotations:
            d["annotations"] = [kv.to_dict() for kv in self.annotations]
        return d


def __getattr__(name: str) -> Any:
    if name in _POD_TYPES:
        from rkt_sdk import podmanifest

        value = getattr(podmanifest, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rkt_sdk.appc' has no attribute {name!r}")
