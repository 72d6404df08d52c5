"""Running a prepared pod: ``prepared`` -> ``run``, rootfs mounts, networks, then the flavor.

The caller holds the pod lock. From here the lock is handed to the flavor (inheritable)
and lives as long as the pod's processes. If anything fails before the flavor has the
pod running, everything made for the pod is undone and the pod directory removed.
"""

from __future__ import annotations

import os
from pathlib import Path

from rkt.paths import DataDir
from rkt.pods.lock import DirLock
from rkt.pods.rootfs import mount_app_roots
from rkt_sdk.appc import PodManifest
from rkt_sdk.errors import FlavorError, RktError
from rkt_sdk.poddir import PodDir
from rkt_sdk.types import NetworkAttachment, Pod, PodApp, RunOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.net import NetSpec
    from rkt.stage1.loader import Flavor


def load_pod(path: Path, uuid: str, lock_fd: int = -1, netns: Path | None = None,
             networks: tuple[NetworkAttachment, ...] = ()) -> Pod:
    """The :class:`Pod` a flavor sees, read from the pod directory."""
    pd = PodDir(path)
    manifest = PodManifest.from_json(pd.manifest_path.read_bytes())
    apps = tuple(PodApp(a.name, pd.app_rootfs(a.name), a) for a in manifest.apps)
    return Pod(uuid, path, manifest, apps, lock_fd, netns, networks)


def _lowers(pd: PodDir, manifest: PodManifest) -> dict[str, tuple[Path, ...]]:
    """Each app's image roots, topmost first, as prepare recorded them."""
    return {a.name: tuple(Path(p) for p in (pd.path / "appsinfo" / a.name / "lowers").read_text().splitlines())
            for a in manifest.apps}


def run_pod(data: DataDir, uuid: str, prepared_path: Path, lock: DirLock, flavor: Flavor,
            options: RunOptions, net_spec: NetSpec | None, config_dirs: tuple[Path, ...]) -> int:
    """Move the pod to ``run``, set it up, and hand it to the flavor; return its exit code."""
    run_path = data.pod_state_dir("run") / uuid
    run_path.parent.mkdir(parents=True, exist_ok=True)
    os.rename(prepared_path, run_path)
    lock.path = run_path
    pd = PodDir(run_path)
    started = False
    try:
        manifest = PodManifest.from_json(pd.manifest_path.read_bytes())
        mount_app_roots(pd, _lowers(pd, manifest))
        pd.stamp("started")
        pd.write_stop_timeout(options.stop_timeout)
        netns: Path | None = None
        attachments: tuple[NetworkAttachment, ...] = ()
        if net_spec is None and options.net == "host" and manifest.ports:
            net_spec = _host_net_spec()
        if net_spec is not None and (options.net != "host" or manifest.ports):
            from rkt import net

            netns, attachments = net.setup(pod_path=run_path, uuid=uuid, spec=net_spec, config_dirs=config_dirs,
                                           data_dir=data.root, attachment=flavor.info.capabilities.network_attachment,
                                           ports=manifest.ports)
        if net_spec is not None or options.hosts_entries or options.dns.mode != "default":
            _write_dns_files(pd, options, uuid, attachments)
        pod = load_pod(run_path, uuid, lock.inheritable(), netns, attachments)
        flavor.hook.rkt_pod_event(event="started", uuid=uuid, pod_path=run_path)
        started = True
        code = flavor.hook.rkt_stage1_run(pod=pod, options=options)
    except BaseException as e:
        if not started or isinstance(e, FlavorError):
            _abort(run_path, uuid, data, config_dirs, lock)
        raise
    flavor.hook.rkt_pod_event(event="exited", uuid=uuid, pod_path=run_path)
    return int(code if code is not None else 0)


def _abort(path: Path, uuid: str, data: DataDir, config_dirs: tuple[Path, ...], lock: DirLock) -> None:
    """Undo a pod that never ran: flavor gc, networks, mounts, directory."""
    from rkt.pods.gc import release_pod_resources
    from rkt.pods.prepare import remove_pod_dir

    try:
        release_pod_resources(path, uuid, data, config_dirs)
    finally:
        remove_pod_dir(path)
        lock.release()


def _host_net_spec() -> NetSpec | None:
    """The spec of the host's network, or None when the network package is not available."""
    try:
        from rkt.net import parse_net_flags
    except ImportError:
        return None
    return parse_net_flags(["host"])


def _write_dns_files(pd: PodDir, options: RunOptions, uuid: str,
                     attachments: tuple[NetworkAttachment, ...]) -> None:
    """Write the pod's resolv.conf and hosts where rkt's precedence imposes them (nothing otherwise)."""
    try:
        from rkt import net
    except ImportError:
        _write_dns_fallback(pd, options)
        return
    net.write_dns_files(pd.path, options.dns, options.hosts_entries, options.hostname or f"rkt-{uuid}", attachments)


def _write_dns_fallback(pd: PodDir, options: RunOptions) -> None:
    """Write resolv.conf/hosts from flags when the network package is not in use (host network)."""
    from rkt_sdk.poddir import write_atomic

    (pd.path / "etc").mkdir(exist_ok=True)
    d = options.dns
    if d.mode == "host":
        try:
            write_atomic(pd.resolv_conf, Path("/etc/resolv.conf").read_bytes())
        except OSError:
            pass
    elif d.mode == "flags" and (d.servers or d.search or d.options or d.domain):
        lines = [f"nameserver {s}" for s in d.servers]
        if d.domain:
            lines.append(f"domain {d.domain}")
        if d.search:
            lines.append("search " + " ".join(d.search))
        if d.options:
            lines.append("options " + " ".join(d.options))
        write_atomic(pd.resolv_conf, "\n".join(lines) + "\n")
    if options.hosts_entries:
        lines = []
        for ip, name in options.hosts_entries:
            if ip == "host":
                try:
                    lines.append(Path("/etc/hosts").read_text().rstrip("\n"))
                except OSError:
                    pass
            else:
                lines.append(f"{ip}\t{name}")
        write_atomic(pd.hosts, "\n".join(lines) + "\n")


def _image_isolators(pod_path: Path | None, app: str) -> list[object]:
    """The isolators of the app's image manifest, as JSON objects (none when unknown)."""
    import json

    if pod_path is None:
        return []
    try:
        raw = json.loads(PodDir(pod_path).app_image_manifest_path(app).read_bytes())
        isos = raw.get("app", {}).get("isolators") or []
    except (OSError, ValueError, AttributeError):
        return []
    return isos if isinstance(isos, list) else []


def check_isolators(flavor: Flavor, manifest: PodManifest, pod_path: Path | None = None) -> None:
    """Refuse an isolator the flavor does not claim; warn instead for one an image brought unchanged.

    See :mod:`rkt_sdk.isolators` for the rule as flavor authors read it.
    """
    import sys

    from rkt_sdk.isolators import described

    claimed = flavor.info.capabilities.isolators
    for iso in manifest.isolators:
        if iso.name not in claimed:
            raise RktError(f"pod manifest: the {flavor.name} flavor does not enforce {described(iso.name)}")
    for app in manifest.apps:
        from_image = _image_isolators(pod_path, app.name)
        for iso in app.app.isolators:
            if iso.name in claimed:
                continue
            if iso.to_dict() in from_image:
                sys.stderr.write(f"rkt: warning: app {app.name!r}: the {flavor.name} flavor does not enforce "
                                 f"{described(iso.name)} from its image; running without it\n")
                continue
            raise RktError(f"{described(iso.name)}: the {flavor.name} flavor does not enforce it "
                           f"(it enforces: {', '.join(sorted(claimed)) or 'no isolators'})")


def check_capabilities(flavor: Flavor, manifest: PodManifest, options: RunOptions,
                       pod_path: Path | None = None) -> None:
    """Refuse a pod the flavor says it cannot run, before anything is made for it."""
    check_isolators(flavor, manifest, pod_path)
    caps = flavor.info.capabilities
    if len(manifest.apps) > 1 and not caps.multi_app:
        raise RktError(f"the {flavor.name} flavor runs one app per pod, and {len(manifest.apps)} were given")
    if options.net not in caps.network_modes:
        mode = options.net if options.net != "contained" else "a contained network"
        raise RktError(f"--net={options.net if options.net != 'contained' else 'default'}: the {flavor.name} flavor "
                       f"does not support {mode} (it supports: {', '.join(sorted(caps.network_modes))})")
