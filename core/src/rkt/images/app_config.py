"""An image config mapped onto the appc image manifest rkt runs, as docker2aci mapped it.

- ``Entrypoint`` + ``Cmd`` -> ``app.exec`` (both kept as annotations, so run's arguments replace
  ``Cmd`` and keep ``Entrypoint``); a command without a ``/`` is looked up in the image's
  ``PATH``, in the image's own files;
- ``Env`` -> ``environment``; ``WorkingDir`` -> ``workingDirectory``;
- ``User`` (``name``, ``uid``, ``name:group``, ``uid:gid``) -> ``user``/``group``; a user without a
  group gets its primary group from the image's own ``/etc/passwd`` (root's when not listed);
- ``ExposedPorts`` ``80/tcp`` -> a port named ``80-tcp``; ``Volumes`` -> mount points named
  ``volume-<path>``; ``Labels`` -> annotations; ``StopSignal`` -> the annotation
  :data:`STOP_SIGNAL`;
- os and architecture -> the ``os`` and ``arch`` labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from rkt.images.oci_spec import APPC_ARCH
from rkt_sdk.resolved import DEFAULT_PATH  # the PATH an app gets unless it sets one

#: Annotations docker2aci wrote, which run reads back.
ENTRYPOINT = "appc.io/docker/entrypoint"
CMD = "appc.io/docker/cmd"
STOP_SIGNAL = "appc.io/docker/stopsignal"
REGISTRY = "appc.io/docker/registryurl"
REPOSITORY = "appc.io/docker/repository"
TAG = "appc.io/docker/tag"
MANIFEST_DIGEST = "appc.io/oci/manifestdigest"

#: Reads a file of the image (its topmost version), or None: ``read(path) -> bytes | None``.
FileReader = Callable[[str], "bytes | None"]

_NAME_BAD = re.compile(r"[^a-z0-9]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _ac_name(text: str) -> str:
    return _NAME_BAD.sub("-", text.lower()).strip("-") or "root"


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _lookup(cmd: str, env: dict[str, str], exists: Callable[[str], bool]) -> str:
    if "/" in cmd:
        return cmd if cmd.startswith("/") else "/" + cmd
    for d in env.get("PATH", DEFAULT_PATH).split(":"):
        if d.startswith("/") and exists(f"{d.rstrip('/')}/{cmd}"):
            return f"{d.rstrip('/')}/{cmd}"
    return f"/bin/{cmd}" if cmd else cmd


def _user(spec: str, read: FileReader) -> tuple[str, str]:
    if not spec:
        return "0", "0"
    user, colon, group = spec.partition(":")
    if colon and group:
        return user, group
    passwd = read("/etc/passwd") or b""
    for line in passwd.decode("utf-8", "replace").splitlines():
        f = line.split(":")
        if len(f) > 3 and (f[0] == user or f[2] == user):
            return user, f[3]
    return user, "0"


def _ports(exposed: Any) -> list[dict[str, Any]]:
    out = []
    for key in sorted(exposed or {}):
        num, _, proto = str(key).partition("/")
        proto = proto or "tcp"
        if num.isdigit() and 1 <= int(num) <= 65535 and proto in ("tcp", "udp"):
            out.append({"name": f"{num}-{proto}", "protocol": proto, "port": int(num), "count": 1,
                        "socketActivated": False})
    return out


def appc_manifest(config: dict[str, Any], name: str, labels: dict[str, str], annotations: dict[str, str],
                  read: FileReader, exists: Callable[[str], bool]) -> dict[str, Any]:
    """The appc image manifest (as a dict) of an image whose config document is ``config``."""
    cc = config.get("config") or config.get("container_config") or {}
    env_list = _strings(cc.get("Env"))
    env = {k: v for k, _, v in (e.partition("=") for e in env_list) if _ENV_NAME.fullmatch(k)}
    entrypoint, cmd = _strings(cc.get("Entrypoint")), _strings(cc.get("Cmd"))
    argv = entrypoint + cmd
    if argv:
        argv[0] = _lookup(argv[0], env, exists)
    user, group = _user(str(cc.get("User") or ""), read)
    app: dict[str, Any] = {"exec": argv, "user": user, "group": group,
                           "environment": [{"name": k, "value": v} for k, v in env.items()],
                           "ports": _ports(cc.get("ExposedPorts")),
                           "mountPoints": [{"name": "volume-" + _ac_name(p), "path": p, "readOnly": False}
                                           for p in sorted(cc.get("Volumes") or {}) if str(p).startswith("/")]}
    wd = str(cc.get("WorkingDir") or "")
    if wd.startswith("/"):
        app["workingDirectory"] = wd
    ann = dict(annotations)
    ann[ENTRYPOINT] = json.dumps(entrypoint)
    ann[CMD] = json.dumps(cmd)
    if cc.get("StopSignal"):
        ann[STOP_SIGNAL] = str(cc["StopSignal"])
    for k, v in sorted((cc.get("Labels") or {}).items()):
        ann.setdefault(str(k), str(v))
    arch = str(config.get("architecture") or "amd64")
    all_labels = {"os": str(config.get("os") or "linux"), "arch": APPC_ARCH.get(arch, arch), **labels}
    return {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
            "labels": [{"name": k, "value": v} for k, v in all_labels.items()],
            "app": app if argv or cc else None,
            "annotations": [{"name": k, "value": v} for k, v in ann.items()]}
