"""Network configurations: the built-in ``default`` and ``default-restricted``, and ``net.d``.

A network configuration is a CNI network config (JSON object with ``name``, ``type``,
``ipam`` ...). They come from ``<config dir>/net.d/*.conf`` of each config dir, from lowest to
highest precedence (system < local < user); a later file with the same ``name`` overrides an
earlier one, and a user network named ``default`` or ``default-restricted`` overrides the
built-in. Networks are attached in the lexicographic order of their file names (the built-ins
count as ``99-default.conf`` and ``99-default-restricted.conf``), as rkt did.

Which implementation runs a network:

- ``ptp``, ``bridge`` and ``macvlan`` with a ``host-local`` IPAM are done natively (no binary);
- any other ``type`` (or IPAM type), and any config with ``"rktExternal": true``, runs the CNI
  plugin binary of that name (see :mod:`rkt.net.cni`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rkt.net.errors import NetworkError
from rkt.net.spec import KEYWORDS, NAME_RE, NetRequest, NetSpec

NATIVE_TYPES = frozenset({"ptp", "bridge", "macvlan"})
#: key of a network config that forces the external CNI plugin binary even for a native type
EXTERNAL_KEY = "rktExternal"

_BUILTINS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("99-default.conf", {
        "cniVersion": "0.4.0", "name": "default", "type": "ptp", "ipMasq": True,
        "ipam": {"type": "host-local", "subnet": "172.16.28.0/24", "routes": [{"dst": "0.0.0.0/0"}]},
    }),
    "default-restricted": ("99-default-restricted.conf", {
        "cniVersion": "0.4.0", "name": "default-restricted", "type": "ptp", "ipMasq": False,
        "ipam": {"type": "host-local", "subnet": "172.31.0.0/16"},
    }),
}


@dataclass(frozen=True)
class NetConf:
    """One network configuration.

    :ivar name: the network's name.
    :ivar type: the CNI type (plugin name).
    :ivar raw: the whole JSON config.
    :ivar file_name: the file's base name (sort key).
    :ivar source: where it came from: the file's path, or ``net/<file>`` for a built-in.
    """

    name: str
    type: str
    raw: dict[str, Any] = field(compare=False)
    file_name: str
    source: str

    @property
    def ipam_type(self) -> str:
        ipam = self.raw.get("ipam")
        return str(ipam.get("type", "")) if isinstance(ipam, dict) else ""

    @property
    def native(self) -> bool:
        """Whether stage0 does this network itself (see the module doc for the rule)."""
        return (self.type in NATIVE_TYPES and self.ipam_type == "host-local"
                and not self.raw.get(EXTERNAL_KEY, False))


def builtin(name: str) -> NetConf:
    """A built-in network config (``default`` or ``default-restricted``)."""
    file_name, raw = _BUILTINS[name]
    return NetConf(name, str(raw["type"]), json.loads(json.dumps(raw)), file_name, f"net/{file_name}")


def _load_file(path: Path) -> NetConf:
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as e:  # RecursionError: nested too deeply
        raise NetworkError(f"network config {path}: cannot read JSON: {e}") from None
    if not isinstance(raw, dict):
        raise NetworkError(f"network config {path}: must be a JSON object")
    name, type_ = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not NAME_RE.match(name) or name in KEYWORDS:
        raise NetworkError(f'network config {path}: missing or bad field "name" {name!r}')
    if not isinstance(type_, str) or not type_ or "/" in type_:
        raise NetworkError(f'network config {path}: missing or bad field "type"')
    if "ipam" in raw and not isinstance(raw["ipam"], dict):
        raise NetworkError(f'network config {path}: field "ipam" must be an object')
    return NetConf(name, type_, raw, path.name, str(path))


def load_all(config_dirs: tuple[Path, ...]) -> dict[str, NetConf]:
    """Every network by name: built-ins, then each config dir's ``net.d`` in precedence order."""
    nets = {name: builtin(name) for name in _BUILTINS}
    for d in config_dirs:
        netd = d / "net.d"
        try:
            names = sorted(n for n in os.listdir(netd) if n.endswith(".conf") and not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for n in names:
            conf = _load_file(netd / n)
            nets[conf.name] = conf
    return nets


def plugin_dirs(config_dirs: tuple[Path, ...]) -> tuple[Path, ...]:
    """Where CNI plugin binaries are looked for, after ``$CNI_PATH``: each config dir's
    ``plugins/net`` and ``net.d`` (highest precedence first), then ``/usr/lib/cni``."""
    dirs: list[Path] = []
    for d in reversed(config_dirs):
        dirs += [d / "plugins" / "net", d / "net.d"]
    dirs += [Path("/usr/lib/cni"), Path("/opt/cni/bin")]
    return tuple(dirs)


def select(spec: NetSpec, config_dirs: tuple[Path, ...]) -> list[tuple[NetConf, NetRequest]]:
    """The networks a contained pod joins, in attachment order, each with its request.

    ``all`` means every configured network (with ``default``); ``default-restricted`` is added
    when ``default`` is not among them.

    :raises NetworkError: a requested network has no configuration, or a config is broken.
    """
    nets = load_all(config_dirs)
    wanted: dict[str, NetRequest] = {}
    if spec.request("all") is not None:
        wanted = {n: NetRequest(n) for n in nets if n != "default-restricted"}
    for req in spec.requests:
        if req.name == "all":
            continue
        if req.name not in nets:
            raise NetworkError(f"--net: network {req.name!r} not found (no such net.d config and not built-in)")
        wanted[req.name] = req
    if "default" not in wanted:
        wanted.setdefault("default-restricted", NetRequest("default-restricted"))
    chosen = [(nets[n], r) for n, r in wanted.items()]
    chosen.sort(key=lambda cr: (cr[0].file_name, cr[0].name))
    return chosen
