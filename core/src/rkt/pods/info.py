"""What ``rkt list`` and ``rkt status`` show about a pod, read from its directory only.

Nothing here loads a flavor or a network library: listing 1000 pods stays cheap. Files are
read with bare ``os`` calls on string paths (no ``pathlib`` objects per file), and a *brief*
read (:func:`pod_info` with ``brief=True``, for the text table of ``rkt list``) skips what the
table does not show: the flavor record, the apps' recorded runs and the pod's pid.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple

from rkt.pods.layout import PodRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC


class AppInfo(namedtuple("AppInfo", "name image_name image_id state exit_code started finished",
                         defaults=("", None, 0, 0))):
    """One app of a pod as listed."""

    __slots__ = ()
    name: str
    image_name: str
    image_id: str
    state: str
    exit_code: int | None
    started: int
    finished: int


class PodInfo(namedtuple("PodInfo", "uuid state created started apps networks pid flavor", defaults=((), None, ""))):
    """A pod as listed: state, times (ns since the epoch, 0 if none), apps, networks, pid."""

    __slots__ = ()
    uuid: str
    state: str
    created: int
    started: int
    apps: tuple[AppInfo, ...]
    networks: list[dict[str, Any]]
    pid: int | None
    flavor: str

    def networks_text(self) -> str:
        return ",".join(f"{n.get('netName')}:ip4={n.get('ip')}" for n in self.networks if n.get("ip"))

    def to_json(self) -> dict[str, Any]:
        """rkt's JSON form of a pod (``name`` holds the UUID)."""
        d: dict[str, Any] = {"name": self.uuid, "state": self.state}
        if self.networks:
            d["networks"] = self.networks
        d["app_names"] = [a.name for a in self.apps]
        d["apps"] = []
        for a in self.apps:
            ad: dict[str, Any] = {"name": a.name, "state": a.state or _app_state(self.state, a),
                                  "image_id": a.image_id, "image_name": a.image_name}
            if a.started:
                ad["started_at"] = a.started
            if a.finished:
                ad["finished_at"] = a.finished
            if a.exit_code is not None:
                ad["exit_code"] = a.exit_code
            d["apps"].append(ad)
        if self.created:
            d["created_at"] = self.created
        if self.started:
            d["started_at"] = self.started
        if self.pid is not None:
            d["pid"] = self.pid
        if self.flavor:
            d["stage1"] = self.flavor
        return d


def _app_state(pod_state: str, a: AppInfo) -> str:
    if a.exit_code is not None:
        return "exited"
    if pod_state == "running":
        return "running" if a.started else "created"  # a sandbox's app added and not started
    if pod_state in ("exited", "exited-garbage", "garbage"):
        return "exited"
    return "created"


def read_file(path: str) -> bytes | None:
    """The whole content of ``path``, or None when it does not exist."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_int(path: str) -> int | None:
    """A decimal number written by stage0 or the flavor; None when missing or malformed."""
    raw = read_file(path)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _read_json(path: str) -> object:
    raw = read_file(path)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _app_states(path: str) -> dict[str, tuple[int, int, int | None]]:
    """``app -> (started, finished, exit code)`` from ``rkt/started`` and ``rkt/status`` (see the pod layout)."""
    started_dir, status_dir = path + "/rkt/started", path + "/rkt/status"
    names: set[str] = set()
    for d in (started_dir, status_dir):
        try:
            names.update(n for n in os.listdir(d) if not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            pass
    out: dict[str, tuple[int, int, int | None]] = {}
    for n in names:
        code = _read_int(f"{status_dir}/{n}")
        finished = 0
        if code is not None:
            try:
                finished = os.stat(f"{status_dir}/{n}").st_mtime_ns
            except FileNotFoundError:
                code = None
        out[n] = (_read_int(f"{started_dir}/{n}") or 0, finished, code)
    return out


def _networks(path: str) -> list[dict[str, Any]]:
    saved = _read_json(path + "/net/state.json")
    if not isinstance(saved, dict):
        return []
    from rkt.net.state import networks_of

    return networks_of(saved)


def pod_info(ref: PodRef, *, brief: bool = False) -> PodInfo | None:
    """Read a pod's directory; None if it vanished or is still an embryo without a manifest.

    ``brief`` leaves out the flavor, the apps' runs (start, finish, exit code) and the pid:
    what the text table of ``rkt list`` does not show.
    """
    path = str(ref.path)
    state = ref.state()
    manifest = _read_json(path + "/pod")
    if manifest is None and not os.path.isdir(path):
        return None
    apps_raw = manifest.get("apps") if isinstance(manifest, dict) else None
    flavor = ""
    states: dict[str, tuple[int, int, int | None]] = {}
    pid = None
    if not brief:
        rec = _read_json(path + "/stage1")
        flavor = str(rec.get("name", "")) if isinstance(rec, dict) else ""
        if state not in ("embryo", "preparing", "prepared", "aborted prepare"):
            states = _app_states(path)
        if state in ("running", "exited", "exited-garbage", "deleting"):
            pid = _read_int(path + "/pid")
    apps = []
    for a in apps_raw if isinstance(apps_raw, list) else ():
        name = a.get("name", "")
        img = a.get("image", {})
        started, finished, code = states.get(name, (0, 0, None))
        apps.append(AppInfo(name, img.get("name", ""), img.get("id", ""), "", code, started, finished))
    created = _read_int(path + "/created")
    if not created:
        try:
            created = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return None
    return PodInfo(ref.uuid, state, created, _read_int(path + "/started") or 0, tuple(apps),
                   _networks(path) if state in ("running", "exited") else [], pid, flavor)
