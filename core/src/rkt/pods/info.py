"""What ``rkt list`` and ``rkt status`` show about a pod, read from its directory only.

Nothing here loads a flavor or a network library: listing 1000 pods stays cheap.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from pathlib import Path

from rkt.pods.layout import PodRef
from rkt_sdk.poddir import PodDir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
        return "running"
    if pod_state in ("exited", "exited-garbage", "garbage"):
        return "exited"
    return "created"


def _networks(path: Path) -> list[dict[str, Any]]:
    if not (path / "net").exists():
        return []
    try:
        from rkt import net

        return list(net.status_networks(path))
    except (ImportError, AttributeError):
        return []
    except (OSError, ValueError):
        return []


def pod_info(ref: PodRef) -> PodInfo | None:
    """Read a pod's directory; None if it vanished or is still an embryo without a manifest."""
    pd = PodDir(ref.path)
    state = ref.state()
    try:
        raw = json.loads(pd.manifest_path.read_bytes())
        apps_raw = raw.get("apps", [])
    except FileNotFoundError:
        if not ref.path.exists():
            return None
        apps_raw = []
    except ValueError:
        apps_raw = []
    try:
        flavor = json.loads((ref.path / "stage1").read_text()).get("name", "")
    except (OSError, ValueError):
        flavor = ""
    states = pd.app_states() if state not in ("embryo", "preparing", "prepared", "aborted prepare") else {}
    apps = []
    for a in apps_raw:
        name = a.get("name", "")
        img = a.get("image", {})
        st = states.get(name)
        apps.append(AppInfo(name, img.get("name", ""), img.get("id", ""), "",
                            st.exit_code if st else None, st.started if st else 0, st.finished if st else 0))
    pid = None
    if state in ("running", "exited", "exited-garbage", "deleting"):
        try:
            pid = pd.read_pid()
        except Exception:
            pid = None
    created = pd.read_stamp("created")
    if not created:
        try:
            created = os.stat(ref.path).st_mtime_ns
        except FileNotFoundError:
            return None
    return PodInfo(ref.uuid, state, created, pd.read_stamp("started"), tuple(apps),
                   _networks(ref.path) if state in ("running", "exited") else [], pid, flavor)
