"""Preparing and running pods: the library behind ``rkt run``, ``prepare`` and ``run-prepared``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rkt.apps.request import PodRequest
from rkt.paths import DataDir
from rkt_sdk.errors import ManifestError, RktError
from rkt_sdk.record import Record, replace
from rkt_sdk.types import RunOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt.net import NetSpec
    from rkt.pods.prepare import PreparedPod
    from rkt.stage1.loader import Flavor
    from rkt_sdk.appc import ImageManifest, PodManifest


class Environment(Record):
    """Where rkt works: its data directory, config directories, and the global flags."""

    data: DataDir
    config_dirs: tuple[Path, ...]
    insecure: frozenset[str] = frozenset()
    debug: bool = False
    trust_keys_from_https: bool = False


def _store(env: Environment) -> Any:
    from rkt.store import Store

    return Store(env.data.store)


def select_flavor(env: Environment, name: str) -> Flavor:
    """Load the flavor named, or the configured default, at the version the config pins (if it does)."""
    from rkt.stage1.loader import load_flavor
    from rkt.stage1.settings import check_pinned_version, configured_stage1

    choice = configured_stage1(env.config_dirs)
    flavor = load_flavor(name or choice.name, env.data.cache)
    check_pinned_version(choice, flavor.name, flavor.entry.dist_version, flavor.entry.dist)
    return flavor


def _net_spec(values: tuple[str, ...], flavor: Flavor) -> tuple[str, NetSpec | None]:
    """The network mode and, unless it is the host's network, the parsed ``--net`` request.

    ``--net=host`` (or a flavor whose default it is) needs nothing of the network package,
    which is then not imported; :func:`rkt.pods.run.run_pod` asks for it only if the pod
    imposes DNS settings or forwards ports.
    """
    modes = flavor.info.capabilities.network_modes
    if not values:
        if "contained" in modes:
            values = ("default",)
        elif "host" in modes:
            values = ("host",)
        else:
            values = ("none",)
    if values == ("host",):
        return "host", None
    try:
        from rkt.net import parse_net_flags
    except ImportError:
        if values in (("host",), ("none",)):
            return values[0], None
        raise RktError(f"--net={','.join(values)}: contained networking is not available in this build") from None
    spec = parse_net_flags(list(values))
    return spec.mode, spec


def build_manifest(req: PodRequest, env: Environment, store: Any) -> PodManifest:
    from rkt.apps.manifest import build_pod_manifest
    from rkt_sdk.appc import PodManifest

    if req.pod_manifest:
        try:
            raw = Path(req.pod_manifest).read_bytes()
        except OSError as e:
            raise RktError(f"--pod-manifest={req.pod_manifest}: {e.strerror}") from None
        try:
            m = PodManifest.from_json(raw)
        except ManifestError as e:
            raise RktError(f"--pod-manifest={req.pod_manifest}: {e}") from None
        for a in m.apps:
            store.resolve(a.image.id)
        return m

    from rkt.trust.policy import ImagePolicy

    policy = ImagePolicy(env.config_dirs, env.insecure, {a.image: Path(a.signature) for a in req.apps if a.signature},
                         trust_keys_from_https=env.trust_keys_from_https)

    def resolve(ref: str) -> tuple[str, ImageManifest]:
        image_id = store.find_id(ref, insecure=env.insecure, verifier=policy, pull_policy=req.pull_policy,
                                 config_dirs=env.config_dirs)
        return image_id, store.manifest(image_id)

    return build_pod_manifest(req, resolve)


def prepare(req: PodRequest, env: Environment, *, keep_lock: bool = False,
            flavor: Flavor | None = None) -> tuple[PreparedPod, Flavor]:
    """Make a prepared pod for the request; nothing is left behind if it fails."""
    from rkt.pods.prepare import prepare_pod, stage1_record

    flavor = flavor or select_flavor(env, req.stage1_name)
    store = _store(env)
    manifest = build_manifest(req, env, store)
    caps = flavor.info.capabilities
    if len(manifest.apps) > 1 and not caps.multi_app:
        raise RktError(f"the {flavor.name} flavor runs one app per pod, and {len(manifest.apps)} were given")
    rec = stage1_record(flavor.entry, flavor.info.interface_version, not req.no_overlay)
    rec["statusHook"] = flavor.implements("rkt_stage1_status")
    pod = prepare_pod(env.data, store, manifest, rec, overlay=not req.no_overlay, keep_lock=keep_lock)
    if req.uuid_file_save:
        try:
            Path(req.uuid_file_save).write_text(pod.uuid)
        except OSError as e:
            from rkt.pods.prepare import remove_pod_dir

            pod.lock.release()
            remove_pod_dir(pod.path)
            raise RktError(f"--uuid-file-save={req.uuid_file_save}: {e.strerror}") from None
    flavor.hook.rkt_pod_event(event="prepared", uuid=pod.uuid, pod_path=pod.path)
    return pod, flavor


def run_options(req: PodRequest, env: Environment, flavor: Flavor, net_mode: str) -> RunOptions:
    return RunOptions(debug=env.debug, net=net_mode, interactive=req.interactive, hostname=req.hostname,
                      dns=req.dns, hosts_entries=req.hosts_entries, insecure_options=env.insecure,
                      settings=flavor.settings(env.config_dirs))


def _check_host(flavor: Flavor, settings: Any) -> None:
    check = flavor.hook.rkt_stage1_host_check(settings=settings)
    for w in getattr(check, "warnings", ()) or ():
        sys.stderr.write(f"rkt: warning: {w}\n")
    if check is not None and not check.ok:
        raise RktError(f"the {flavor.name} flavor cannot run on this host: {check.reason}")


def run(req: PodRequest, env: Environment) -> int:
    """``rkt run``: prepare the pod, then run it in the foreground; the pod's exit code."""
    from rkt.pods.run import check_capabilities, run_pod

    flavor = select_flavor(env, req.stage1_name)
    net_mode, spec = _net_spec(req.net, flavor)
    if req.ports and net_mode in ("host", "none"):
        raise RktError(f"--port flag does not work with '{net_mode}' networking")
    options = run_options(req, env, flavor, net_mode)
    _check_host(flavor, options.settings)
    pod, _ = prepare(req, env, keep_lock=True, flavor=flavor)
    try:
        check_capabilities(flavor, _manifest_of(pod.path), options, pod.path)
    except RktError:
        from rkt.pods.prepare import remove_pod_dir

        pod.lock.release()
        remove_pod_dir(pod.path)
        raise
    return run_pod(env.data, pod.uuid, pod.path, pod.lock, flavor, options, spec, env.config_dirs)


def _manifest_of(path: Path) -> PodManifest:
    from rkt_sdk.appc import PodManifest

    return PodManifest.from_json((path / "pod").read_bytes())


def run_prepared(uuid: str, req: PodRequest, env: Environment) -> int:
    """``rkt run-prepared``: run a pod made by ``rkt prepare``; exactly one caller wins a race."""
    from rkt.pods.layout import find_pod
    from rkt.pods.lock import DirLock, PodLocked
    from rkt.pods.run import check_capabilities, run_pod
    from rkt.stage1.loader import load_flavor

    ref = find_pod(env.data, uuid)
    if ref.dir_state != "prepared":
        raise RktError(f'pod "{ref.uuid}" is not prepared (state: {ref.state()})')
    try:
        lock = DirLock.acquire(ref.path)
    except PodLocked:
        raise RktError(f'pod "{ref.uuid}" is being run by another process') from None
    except FileNotFoundError:
        raise RktError(f'pod "{ref.uuid}" is not prepared any more (another process ran it)') from None
    if not ref.path.exists():
        lock.release()
        raise RktError(f'pod "{ref.uuid}" is not prepared any more (another process ran it)')
    try:
        rec = json.loads((ref.path / "stage1").read_text())
        flavor = load_flavor(rec["name"], env.data.cache)
        net_mode, spec = _net_spec(req.net, flavor)
        options = run_options(req, env, flavor, net_mode)
        options = replace(options, hostname=req.hostname)
        _check_host(flavor, options.settings)
        check_capabilities(flavor, _manifest_of(ref.path), options, ref.path)
    except BaseException:
        lock.release()
        raise
    return run_pod(env.data, ref.uuid, ref.path, lock, flavor, options, spec, env.config_dirs)
