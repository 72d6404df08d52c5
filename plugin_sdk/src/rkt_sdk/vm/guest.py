"""What the guest runs: the init baked into the initramfs and the per-pod script it sources.

The host plans the pod in Python (:func:`plan_pod`): one 9p share per app root, per volume
and one exchange share (``rkt.xchg``) holding the rendered pod script and the files stage0
imposes (``/etc/hosts``, ``/etc/resolv.conf``). The guest side is busybox ``sh``: the init
(:func:`render_init`) mounts the shares, configures networks, and starts each app with
``nsenter -r`` (its own root) as its user, in its working directory, with exactly its
environment (an app with supplementary groups goes through busybox ``su`` first, whose
``initgroups`` sets them from entries the pod script adds to the guest's own ``/etc/group``;
the app's primary gid is then among them too); then it answers the host over the control
port (see :mod:`rkt_sdk.vm.protocol`).

Both scripts are jinja2 templates shipped in this package; jinja2 is imported only here, when
rendering.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from rkt_sdk.poddir import PodDir, write_atomic
from rkt_sdk.record import Record, replace
from rkt_sdk.resolved import AppMount, ResolvedApp, empty_volume_dir, make_volume_dirs, resolve_app
from rkt_sdk.types import NetworkAttachment, Pod, RunOptions
from rkt_sdk.vm.errors import VMError

CONTROL_PORT = "rkt.control"
STDOUT_PORT = "rkt.stdout"
STDERR_PORT = "rkt.stderr"
XCHG_TAG = "rkt.xchg"
#: the file of a sandbox's exchange directory naming the volumes shared at boot, one a line
SANDBOX_VOLUMES = "volumes"
#: the 9p tag of a sandbox's ``apps/`` directory (every later app's root lives under it)
APPS_TAG = "rkt.apps"
#: printed by the guest init, as its first act, when the kernel command line holds PROBE_ARG.
PROBE_MARKER = "RKT-GUEST-UP"
PROBE_ARG = "rkt.probe"
MSIZE = 262144


class Share(Record):
    """A host directory exported to the guest over virtio-9p.

    :ivar tag: the mount tag the guest mounts (at most 31 characters).
    :ivar path: the host directory.
    :ivar read_only: exported read-only (the guest cannot write whatever it mounts).
    """

    tag: str
    path: Path
    read_only: bool = False


class GuestMount(Record):
    """A volume mounted into an app: volume name, path in the app, read-only."""

    volume: str
    path: str
    read_only: bool


class GuestFile(Record):
    """A file of the exchange share bound over a path in an app (``etc/hosts`` -> ``/etc/hosts``)."""

    source: str
    target: str


class GuestApp(Record):
    """An app as the guest runs it (``groups``: its supplementary gids).

    :ivar index: the app's key in the guest's shell names: its position at ``run``, or (an app
        added to a sandbox) its name with ``-`` as ``_`` (:func:`app_key`).
    """

    index: int | str
    name: str
    tag: str
    options: str
    exec: tuple[str, ...]
    env: tuple[str, ...]
    uid: int
    gid: int
    workdir: str
    mounts: tuple[GuestMount, ...] = ()
    files: tuple[GuestFile, ...] = ()
    groups: tuple[int, ...] = ()
    stop_signal: str = "TERM"


class GuestVolume(Record):
    """A pod volume as the guest mounts it (at ``/vol/<name>``)."""

    name: str
    tag: str
    options: str


class GuestNetwork(Record):
    """A network the guest configures on the interface with ``mac``."""

    name: str
    mac: str
    ip4: str
    prefix_len: int
    gateway: str
    routes: tuple[tuple[str, str], ...]
    default_route: bool


class GuestPlan(Record):
    """Everything the host decided about the guest of one pod."""

    hostname: str
    apps: tuple[GuestApp, ...]
    volumes: tuple[GuestVolume, ...]
    networks: tuple[GuestNetwork, ...]
    shares: tuple[Share, ...]
    xchg: Path
    files: dict[str, Path]
    sandbox: bool = False


def _share_options(read_only: bool, cache: str) -> str:
    return f"cache={cache}" + (",ro" if read_only else "")


def _networks(nets: tuple[NetworkAttachment, ...]) -> tuple[GuestNetwork, ...]:
    out = []
    has_default = False
    for n in nets:
        if not n.mac:
            raise VMError(f"network {n.name}: the tap attachment carries no MAC address for the guest")
        routes = tuple((dst, gw) for dst, gw in n.routes if dst not in ("0.0.0.0/0", "default"))
        wants_default = bool(n.gateway) and not has_default
        if any(dst in ("0.0.0.0/0", "default") for dst, _ in n.routes) and not has_default:
            wants_default = True
        has_default = has_default or wants_default
        out.append(GuestNetwork(n.name, n.mac.lower(), n.ip4, n.prefix_len, n.gateway, routes,
                                wants_default and bool(n.gateway)))
    return tuple(out)


def _volume_shares(pod: Pod, apps: list[ResolvedApp]) -> tuple[list[Share], list[GuestVolume]]:
    """One share per volume some app mounts, read-only when every app mounts it read-only."""
    shares: list[Share] = []
    volumes: list[GuestVolume] = []
    for i, v in enumerate(pod.manifest.volumes):
        mounts = [m for a in apps for m in a.mounts if m.volume.name == v.name]
        if not mounts:
            continue
        if v.kind == "host" and not os.path.isdir(v.source):
            raise VMError(f"volume {v.name}: host source {v.source} is not a directory "
                          "(VM flavors share directories only)")
        ro = all(m.read_only for m in mounts)
        tag = f"vol{i}"
        shares.append(Share(tag, Path(mounts[0].source), ro))
        volumes.append(GuestVolume(v.name, tag, _share_options(ro, "mmap")))
    return shares, volumes


def _sandbox_volumes(pod: Pod) -> tuple[list[Share], list[GuestVolume]]:
    """Every volume of a sandbox, shared at boot (its later apps may mount any of them); read-only
    when the volume says so."""
    shares: list[Share] = []
    volumes: list[GuestVolume] = []
    for i, v in enumerate(pod.manifest.volumes):
        if v.kind == "host":
            if not os.path.isdir(v.source):
                raise VMError(f"volume {v.name}: host source {v.source} is not a directory "
                              "(VM flavors share directories only)")
            source = Path(v.source)
        else:
            source = empty_volume_dir(pod.path, v.name)
            make_volume_dirs([AppMount(v, str(source), "/", False, True)])
        ro = v.read_only is True
        shares.append(Share(f"vol{i}", source, ro))
        volumes.append(GuestVolume(v.name, f"vol{i}", _share_options(ro, "mmap")))
    return shares, volumes


def _guest_app(i: int, a: ResolvedApp, files: dict[str, Path]) -> tuple[GuestApp, Share]:
    tag = f"app{i}"
    mounts = tuple(GuestMount(m.volume.name, m.target, m.read_only) for m in a.mounts)
    gfiles = tuple(GuestFile(src, "/" + src) for src in sorted(files))
    app = GuestApp(i, a.name, tag, _share_options(a.read_only_rootfs, "mmap"), a.argv,
                   tuple(f"{k}={v}" for k, v in a.env.items()), a.creds.uid, a.creds.gid, a.cwd, mounts, gfiles,
                   a.creds.groups)
    return app, Share(tag, a.rootfs, a.read_only_rootfs)


def plan_pod(pod: Pod, options: RunOptions) -> GuestPlan:
    """Decide shares, mounts, credentials and environment of every app of ``pod``.

    Each app is resolved by :func:`rkt_sdk.resolved.resolve_app` (the guest has no terminal of
    the caller's); empty volumes get their host directory there too. The exchange directory is
    ``stage1-data/xchg``.
    """
    pd = PodDir(pod.path)
    xchg = pd.make_stage1_data() / "xchg"
    xchg.mkdir(exist_ok=True)
    files = guest_files(pd)
    resolved = [resolve_app(pod, a) for a in pod.apps]
    vol_shares, volumes = _sandbox_volumes(pod) if pod.mutable else _volume_shares(pod, resolved)
    for a in resolved:
        make_volume_dirs(a.mounts)
    apps: list[GuestApp] = []
    app_shares: list[Share] = []
    from rkt_sdk.stopsignal import stop_signal

    for i, (a, pa) in enumerate(zip(resolved, pod.apps, strict=True)):
        app, share = _guest_app(i, a, files)
        apps.append(replace(app, stop_signal=stop_signal(pa.runtime).name.removeprefix("SIG")))
        app_shares.append(share)
    hostname = options.hostname or f"rkt-{pod.uuid}"
    if pod.mutable:  # later apps' roots reach the guest through one share of the pod's apps/
        app_shares.append(Share(APPS_TAG, export_apps_dir(pd)))
    return GuestPlan(hostname, tuple(apps), tuple(volumes), _networks(pod.networks),
                     (Share(XCHG_TAG, xchg), *vol_shares, *app_shares), xchg, files, pod.mutable)


def export_apps_dir(pd: PodDir) -> Path:
    """The pod's ``apps/`` made a shared mount point (a bind on itself), so that the roots stage0
    mounts under it later reach an emulator started in a mount namespace of its own (libvirt's)."""
    from rkt_sdk.linux.mount import bind, make_shared, mounts_under

    apps_dir = pd.path / "apps"
    apps_dir.mkdir(exist_ok=True)
    if os.path.realpath(apps_dir) not in mounts_under(apps_dir):
        bind(apps_dir, apps_dir, recursive=False)
    make_shared(apps_dir)
    return apps_dir


def app_key(name: str) -> str:
    """An app name as a key of the guest's shell names (AC names hold ``-``, never ``_``)."""
    return name.replace("-", "_")


def guest_files(pd: PodDir) -> dict[str, Path]:
    """The files stage0 imposes on every app (``etc/hosts``, ``etc/resolv.conf``) that the pod has."""
    return {f"etc/{name}": src for name, src in (("hosts", pd.hosts), ("resolv.conf", pd.resolv_conf))
            if src.is_file()}


def _environment() -> Any:
    import shlex

    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("rkt_sdk.vm", "templates"),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["q"] = lambda s: shlex.quote(str(s))
    return env


def render_init(module_groups: list[tuple[str, list[str]]]) -> str:
    """The guest's ``/init``: loads its modules (``(group, names in order)``, see
    :data:`rkt_sdk.vm.modules.GUEST_MODULE_GROUPS`; the ``extra`` group always) then runs the pod script."""
    return str(_environment().get_template("init.sh.j2").render(
        module_groups=module_groups, control_port=CONTROL_PORT, stdout_port=STDOUT_PORT, stderr_port=STDERR_PORT,
        xchg_tag=XCHG_TAG, probe_arg=PROBE_ARG, probe_marker=PROBE_MARKER, msize=MSIZE))


def render_pod_script(plan: GuestPlan) -> str:
    """The per-pod script the guest init sources from the exchange share."""
    return str(_environment().get_template("pod.sh.j2").render(
        hostname=plan.hostname, apps=plan.apps, volumes=plan.volumes, networks=plan.networks,
        sandbox=plan.sandbox, apps_tag=APPS_TAG))


def render_app_script(app: GuestApp) -> str:
    """The script of one app added to a sandbox (sourced by the guest when it starts the app)."""
    return str(_environment().get_template("app.sh.j2").render(a=app))


def write_exchange(plan: GuestPlan) -> None:
    """Fill the exchange directory: the pod script, imposed /etc files, the enter spool."""
    write_atomic(plan.xchg / "pod.sh", render_pod_script(plan))
    for rel, src in plan.files.items():
        dst = plan.xchg / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    (plan.xchg / "enter").mkdir(exist_ok=True)
    if plan.sandbox:
        for d in ("apps", "out"):
            (plan.xchg / d).mkdir(exist_ok=True)
        write_atomic(plan.xchg / SANDBOX_VOLUMES, "".join(f"{v.name}\n" for v in plan.volumes))
