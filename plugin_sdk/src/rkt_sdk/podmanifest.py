"""The pod manifest stage0 writes into each pod directory (``pod``): apps, volumes, ports, isolators.

The image side of the appc model (the app section, names, field readers) is :mod:`rkt_sdk.appc`,
which also re-exports every type of this module.
"""

from __future__ import annotations

import json

from rkt_sdk.appc import _ID, AC_VERSION, KV, App, Isolator, _err, _kvs, _list, _obj, _str, validate_ac_name
from rkt_sdk.errors import ManifestError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

class Volume(Record):
    """A pod volume: ``host`` (a host path bind-mounted) or ``empty`` (a fresh directory).

    ``read_only`` is ``None`` when the pod manifest does not set ``readOnly``: the image's mount
    point of the volume's name then decides (see :mod:`rkt_sdk.resolved`).
    """

    name: str
    kind: str
    source: str = ""
    read_only: bool | None = None
    recursive: bool = True
    mode: str = "0755"
    uid: int = 0
    gid: int = 0

    @classmethod
    def from_dict(cls, raw: Any, where: str = "volume") -> Volume:
        d = _obj(raw, where)
        name = validate_ac_name(_str(d, "name", where, required=True), where)
        kind = _str(d, "kind", where, required=True)
        if kind not in ("host", "empty"):
            raise _err(where, f'kind must be "host" or "empty", got {kind!r}')
        source = _str(d, "source", where)
        if kind == "host" and not source.startswith("/"):
            raise _err(where, f"source of host volume {name!r} must be an absolute path, got {source!r}")
        ro = d.get("readOnly")
        return cls(name, kind, source, None if ro is None else bool(ro), bool(d.get("recursive", True)),
                   str(d.get("mode", "0755")), int(d.get("uid", 0)), int(d.get("gid", 0)))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.read_only is not None:
            d["readOnly"] = self.read_only
        if self.kind == "host":
            d["source"] = self.source
            d["recursive"] = self.recursive
        else:
            d.update(mode=self.mode, uid=self.uid, gid=self.gid)
        return d


class Mount(Record):
    """Where a pod volume appears in one app: volume name and absolute path in the app."""

    volume: str
    path: str

    def to_dict(self) -> dict[str, str]:
        return {"volume": self.volume, "path": self.path}


class ImageRef(Record):
    """Which image an app of a pod runs: its name, its id (``sha512-…``) and labels."""

    name: str
    id: str
    labels: tuple[KV, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "id": self.id, "labels": [kv.to_dict() for kv in self.labels]}


class RuntimeApp(Record):
    """One app of a pod manifest: its name, its image, the effective app section, and its mounts."""

    name: str
    image: ImageRef
    app: App
    mounts: tuple[Mount, ...] = ()
    read_only_rootfs: bool = False
    annotations: tuple[KV, ...] = ()

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> RuntimeApp:
        d = _obj(raw, where)
        name = validate_ac_name(_str(d, "name", where, required=True), where)
        im = _obj(d.get("image"), f"{where}.image")
        img_id = _str(im, "id", f"{where}.image", required=True)
        if not _ID.match(img_id):
            raise _err(f"{where}.image", f"bad image id {img_id!r}")
        image = ImageRef(_str(im, "name", f"{where}.image"), img_id, _kvs(_list(im, "labels", where), where))
        app = App.from_dict(d.get("app") or {}, f"{where}.app")
        mounts = []
        for i, m in enumerate(_list(d, "mounts", where)):
            w = f"{where}.mounts[{i}]"
            m = _obj(m, w)
            path = _str(m, "path", w, required=True)
            if not path.startswith("/"):
                raise _err(w, f"path {path!r} must be absolute")
            mounts.append(Mount(validate_ac_name(_str(m, "volume", w, required=True), w), path))
        return cls(name, image, app, tuple(mounts), bool(d.get("readOnlyRootFS", False)),
                   _kvs(_list(d, "annotations", where), where))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "image": self.image.to_dict(), "app": self.app.to_dict()}
        if self.mounts:
            d["mounts"] = [m.to_dict() for m in self.mounts]
        if self.read_only_rootfs:
            d["readOnlyRootFS"] = True
        if self.annotations:
            d["annotations"] = [kv.to_dict() for kv in self.annotations]
        return d


class PodPort(Record):
    """A forwarded port of the pod: the app port name, the host port and optional host IP."""

    name: str
    host_port: int
    host_ip: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "hostPort": self.host_port}
        if self.host_ip:
            d["hostIP"] = self.host_ip
        return d


class PodManifest(Record):
    """The pod manifest stage0 writes to ``<pod>/pod``: the apps, volumes, ports and annotations."""

    apps: tuple[RuntimeApp, ...]
    volumes: tuple[Volume, ...] = ()
    ports: tuple[PodPort, ...] = ()
    isolators: tuple[Isolator, ...] = ()
    annotations: tuple[KV, ...] = ()
    ac_version: str = AC_VERSION

    def app(self, name: str) -> RuntimeApp | None:
        """The app of that name, if present."""
        for a in self.apps:
            if a.name == name:
                return a
        return None

    def volume(self, name: str) -> Volume | None:
        """The volume of that name, if present."""
        for v in self.volumes:
            if v.name == name:
                return v
        return None

    @classmethod
    def from_dict(cls, raw: Any) -> PodManifest:
        d = _obj(raw, "pod manifest")
        if d.get("acKind") != "PodManifest":
            raise _err("pod manifest", f'missing or bad acKind {d.get("acKind")!r} (want "PodManifest")')
        apps = tuple(RuntimeApp.from_dict(a, f"pod manifest: apps[{i}]")
                     for i, a in enumerate(_list(d, "apps", "pod manifest")))
        names = [a.name for a in apps]
        for n in names:
            if names.count(n) > 1:
                raise _err("pod manifest", f"duplicate app name {n!r}")
        vols = tuple(Volume.from_dict(v, f"pod manifest: volumes[{i}]")
                     for i, v in enumerate(_list(d, "volumes", "pod manifest")))
        vnames = [v.name for v in vols]
        for n in vnames:
            if vnames.count(n) > 1:
                raise _err("pod manifest", f"duplicate volume name {n!r}")
        for a in apps:
            for m in a.mounts:
                if m.volume not in vnames:
                    raise _err("pod manifest", f"app {a.name!r} mounts unknown volume {m.volume!r}")
        ports = []
        for i, p in enumerate(_list(d, "ports", "pod manifest")):
            w = f"pod manifest: ports[{i}]"
            p = _obj(p, w)
            hp = p.get("hostPort")
            if not isinstance(hp, int) or not 1 <= hp <= 65535:
                raise _err(w, f"hostPort must be an integer in 1..65535, got {hp!r}")
            ports.append(PodPort(_str(p, "name", w, required=True), hp, _str(p, "hostIP", w)))
        isos = tuple(Isolator(_str(_obj(i, "isolator"), "name", "pod manifest: isolators", required=True),
                              i.get("value"))
                     for i in _list(d, "isolators", "pod manifest"))
        return cls(apps, vols, tuple(ports), isos,
                   _kvs(_list(d, "annotations", "pod manifest"), "pod manifest: annotations"),
                   _str(d, "acVersion", "pod manifest", default=AC_VERSION))

    @classmethod
    def from_json(cls, data: bytes | str) -> PodManifest:
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
            raise ManifestError(f"pod manifest: invalid JSON: {e}") from None
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"acKind": "PodManifest", "acVersion": self.ac_version,
                             "apps": [a.to_dict() for a in self.apps],
                             "volumes": [v.to_dict() for v in self.volumes],
                             "isolators": [i.to_dict() for i in self.isolators],
                             "annotations": [kv.to_dict() for kv in self.annotations],
                             "ports": [p.to_dict() for p in self.ports]}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"
