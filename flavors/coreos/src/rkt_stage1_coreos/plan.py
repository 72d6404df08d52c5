"""What each app of a pod runs with, computed once in the stage0 process before any fork.

Everything that can fail on bad input (a user name missing from the image, an unknown
capability or system call, a malformed limit) fails here, before anything is started,
as a :class:`~rkt_sdk.errors.FlavorError` naming the app and the input.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rkt_sdk.errors import FlavorError
from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rkt_sdk.appc import App, Isolator
    from rkt_sdk.resolved import AppMount
    from rkt_sdk.types import Pod, PodApp

DEFAULT_CGROUP_PARENT = "machine.slice"

#: isolators this flavor honours
ISOLATORS = frozenset({
    "resource/memory", "resource/cpu", "os/linux/cpu-shares", "os/linux/oom-score-adj",
    "os/linux/capabilities-retain-set", "os/linux/capabilities-remove-set", "os/linux/no-new-privileges",
    "os/linux/seccomp-retain-set", "os/linux/seccomp-remove-set",
})


class Limits(Record):
    """Resource limits of a cgroup (``None``: unlimited)."""

    memory: int | None = None
    cpu_millicores: int | None = None
    cpu_shares: int | None = None


class AppPlan(Record):
    """How to start one app; the app child process follows it to the letter."""

    name: str
    rootfs: str
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    caps: int
    no_new_privs: bool
    seccomp: bytes | None
    volumes: tuple[AppMount, ...] = ()
    read_only_rootfs: bool = False
    cgroup: str = ""
    limits: Limits = Limits()
    oom_score_adj: int | None = None
    resolv_conf: str = ""
    hosts: str = ""
    mask_paths: bool = True
    stop_signal: int = 15


class PodPlan(Record):
    """The whole pod: its apps and the pod-wide settings."""

    uuid: str
    path: Path
    apps: tuple[AppPlan, ...]
    hostname: str
    cgroup: str
    limits: Limits
    stop_timeout: float
    interactive: bool = False
    debug: bool = False


def pod_cgroup(uuid: str, settings: Mapping[str, Any]) -> str:
    """The pod's cgroup path, relative to the hierarchy roots."""
    parent = str(settings.get("cgroup_parent") or DEFAULT_CGROUP_PARENT).strip("/")
    return f"{parent}/rkt-{uuid}" if parent else f"rkt-{uuid}"


def supervisor_cgroup(pod_cg: str) -> str:
    """The supervisor's own cgroup under the pod's (v2 allows no process beside child cgroups)."""
    return f"{pod_cg}/stage1"


def app_cgroup(pod_cg: str, app: str) -> str:
    """An app's cgroup under the pod's."""
    return f"{pod_cg}/apps/{app}"


def _set_value(iso: Isolator, where: str) -> list[str]:
    v = iso.value
    s = v.get("set") if isinstance(v, dict) else None
    if not isinstance(s, list) or not all(isinstance(x, str) for x in s):
        raise FlavorError(f"{where}: isolator {iso.name}: value must be {{\"set\": [names...]}}")
    return s


def limits_of(isolators: tuple[Isolator, ...], where: str) -> Limits:
    """Memory, CPU and CPU-shares limits from ``resource/*`` and ``os/linux/cpu-shares`` isolators."""
    from rkt_sdk.quantities import parse_cpu, parse_memory

    mem = cpu = shares = None
    try:
        for iso in isolators:
            v = iso.value
            if iso.name == "resource/memory":
                lim = v.get("limit") if isinstance(v, dict) else v
                if lim is not None:
                    mem = parse_memory(lim)
            elif iso.name == "resource/cpu":
                lim = v.get("limit") if isinstance(v, dict) else v
                if lim is not None:
                    cpu = parse_cpu(lim)
            elif iso.name == "os/linux/cpu-shares":
                shares = int(v.get("value", 0) if isinstance(v, dict) else v)
                if shares < 2:
                    raise FlavorError(f"{where}: isolator os/linux/cpu-shares: {v!r} is below 2")
    except (TypeError, ValueError) as e:
        raise FlavorError(f"{where}: {e}") from None
    return Limits(mem, cpu, shares)


def capabilities_of(app: App, insecure: frozenset[str], where: str) -> int:
    """The capability set of an app: rkt's default, or the retain/remove isolators' result."""
    from rkt_sdk.linux import caps

    if "capabilities" in insecure:
        return caps.full_mask()
    retain = app.isolator("os/linux/capabilities-retain-set")
    remove = app.isolator("os/linux/capabilities-remove-set")
    if retain is not None and remove is not None:
        raise FlavorError(f"{where}: capabilities-retain-set and capabilities-remove-set are exclusive")
    if retain is not None:
        return caps.mask(_set_value(retain, where)) & caps.full_mask()
    base = caps.mask(caps.DEFAULT_RETAIN)
    if remove is not None:
        base &= ~caps.mask(_set_value(remove, where))
    return base & caps.full_mask()


def seccomp_of(app: App, insecure: frozenset[str], settings: Mapping[str, Any], where: str,
               check: bool = False) -> bytes | None:
    """The assembled seccomp filter of an app, or ``None`` for none (and, with ``check``, for the
    default filter, which cannot fail: only an app's own sets are assembled then, to check them)."""
    if "seccomp" in insecure:
        return None
    retain = app.isolator("os/linux/seccomp-retain-set")
    remove = app.isolator("os/linux/seccomp-remove-set")
    if retain is not None and remove is not None:
        raise FlavorError(f"{where}: seccomp-retain-set and seccomp-remove-set are exclusive")
    iso = retain or remove
    if iso is None and (check or not settings.get("default_seccomp", True)):
        return None
    from rkt_sdk.linux import seccomp

    if iso is None:
        policy = seccomp.SeccompPolicy.default()
    else:
        names = _set_value(iso, where)
        err = iso.value.get("errno") if isinstance(iso.value, dict) else None
        policy = seccomp.SeccompPolicy("retain" if iso is retain else "remove", seccomp.expand(names),
                                       seccomp.errno_number(err) if err else None)
    return seccomp.build_filter(policy)


def _oom_score_adj(app: App, where: str) -> int | None:
    oom = app.isolator("os/linux/oom-score-adj")
    if oom is None:
        return None
    try:
        raw = oom.value.get("value") if isinstance(oom.value, dict) else oom.value
        if not isinstance(raw, (int, str)):
            raise ValueError(raw)
        adj = int(raw)
    except (TypeError, ValueError):
        raise FlavorError(f"{where}: isolator os/linux/oom-score-adj: {oom.value!r} is not an integer") from None
    if not -1000 <= adj <= 1000:
        raise FlavorError(f"{where}: isolator os/linux/oom-score-adj: {adj} is outside -1000..1000")
    return adj


def app_plan(pod: Pod, pa: PodApp, insecure: frozenset[str], settings: Mapping[str, Any],
             interactive: bool = False, check: bool = False) -> AppPlan:
    """Compute one app's plan (the app resolved by :func:`rkt_sdk.resolved.resolve_app`, and
    what this flavor adds: capabilities, seccomp, cgroup, limits); makes empty volumes' directories.

    With ``check``, the plan only serves to check the app (``rkt app add``): its seccomp
    filter is left out when it is the default one, which cannot fail.

    :raises FlavorError: an input of the app is unusable; the message names it.
    """
    from rkt_sdk.resolved import make_volume_dirs, resolve_app
    from rkt_sdk.stopsignal import stop_signal_number

    ra = resolve_app(pod, pa, terminal=interactive)
    where = f"app {ra.name!r}"
    app = pa.runtime.app
    oom_adj = _oom_score_adj(app, where)
    nnp = app.isolator("os/linux/no-new-privileges")
    caps = capabilities_of(app, insecure, where)
    seccomp = seccomp_of(app, insecure, settings, where, check)
    limits = limits_of(app.isolators, where)
    make_volume_dirs(ra.mounts)
    pd = PodDir(pod.path)
    return AppPlan(
        name=ra.name, rootfs=os.path.realpath(ra.rootfs), argv=ra.argv, env=ra.env, cwd=ra.cwd,
        uid=ra.creds.uid, gid=ra.creds.gid, groups=ra.creds.groups, caps=caps,
        no_new_privs=bool(nnp.value) if nnp is not None else False, seccomp=seccomp,
        volumes=ra.mounts, read_only_rootfs=ra.read_only_rootfs,
        cgroup=app_cgroup(pod_cgroup(pod.uuid, settings), ra.name),
        limits=limits, oom_score_adj=oom_adj,
        resolv_conf=str(pd.resolv_conf) if pd.resolv_conf.is_file() else "",
        hosts=str(pd.hosts) if pd.hosts.is_file() else "",
        stop_signal=stop_signal_number(pa.runtime),
        mask_paths="paths" not in insecure)


def pod_plan(pod: Pod, insecure: frozenset[str], settings: Mapping[str, Any], hostname: str = "",
             stop_timeout: float = 10.0, interactive: bool = False, debug: bool = False) -> PodPlan:
    """Compute the plan of every app of the pod, and the pod-wide settings."""
    if interactive and len(pod.apps) != 1:
        raise FlavorError(f"--interactive needs a pod of one app, and this one has {len(pod.apps)}")
    apps = tuple(app_plan(pod, a, insecure, settings, interactive) for a in pod.apps)
    cg = pod_cgroup(pod.uuid, settings)
    return PodPlan(uuid=pod.uuid, path=pod.path, apps=apps, hostname=hostname or f"rkt-{pod.uuid}", cgroup=cg,
                   limits=limits_of(pod.manifest.isolators, "pod"), stop_timeout=stop_timeout,
                   interactive=interactive, debug=debug)


# --- what enter and stop need to know about the run -----------------------------------


def run_record_path(pod_path: Path) -> Path:
    return pod_path / "stage1-data" / "coreos.json"


def save_run_record(pod_path: Path, insecure: frozenset[str], stop_timeout: float, cgroup: str) -> None:
    """Remember what ``enter``, ``stop`` and ``gc`` must know of the run: insecure options, stop grace, cgroup."""
    d = pod_path / "stage1-data"
    d.mkdir(exist_ok=True)
    write_atomic(run_record_path(pod_path), json.dumps({"insecureOptions": sorted(insecure),
                                                        "stopTimeout": stop_timeout, "cgroup": cgroup}))


def load_run_record(pod_path: Path) -> dict[str, Any]:
    """The record written by :func:`save_run_record` (empty if missing or unreadable)."""
    try:
        data = json.loads(run_record_path(pod_path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
