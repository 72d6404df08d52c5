"""Preparing a pod: its flavor, the checks that need no side effect, then the pod directory.

Everything that can refuse a request without making anything (the flavor's capabilities
against the pod's apps and network mode, ports without a contained network, the host
check) runs before the pod's directory exists. Making the pod then goes through
:func:`guarded`, the one place where a failed start is undone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rkt.apps.request import PodRequest
from rkt.paths import Environment
from rkt_sdk.errors import ManifestError, RktError
from rkt_sdk.types import RunOptions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    from rkt.net import NetSpec
    from rkt.pods.lock import DirLock
    from rkt.pods.prepare import PreparedPod
    from rkt.stage1.loader import Flavor
    from rkt.store import Store
    from rkt_sdk.appc import ImageManifest, PodManifest

    T = TypeVar("T")


def select_flavor(env: Environment, name: str) -> Flavor:
    """Load the flavor named, or the configured default, at the version the config pins (if it does)."""
    from rkt.config.stage1 import check_pinned_version, configured_stage1
    from rkt.stage1.loader import load_flavor

    choice = configured_stage1(env.config_dirs)
    flavor = load_flavor(name or choice.name, env.data.cache)
    check_pinned_version(choice, flavor.name, flavor.entry.dist_version, flavor.entry.dist)
    return flavor


def net_request(values: tuple[str, ...], flavor: Flavor) -> tuple[str, NetSpec | None]:
    """The network mode and, unless it is the host's network, the parsed ``--net`` request.

    ``--net=host`` (or a flavor whose default it is) needs nothing of the network package,
    which is then not imported.
    """
    modes = flavor.info.capabilities.network_modes
    if not values:
        values = ("default",) if "contained" in modes else ("host",) if "host" in modes else ("none",)
    if values == ("host",):
        return "host", None
    from rkt.net import parse_net_flags

    spec = parse_net_flags(list(values))
    return spec.mode, spec


def run_options(req: PodRequest, env: Environment, flavor: Flavor, net_mode: str) -> RunOptions:
    """The options the flavor's run hook gets; its settings are read and validated here."""
    return RunOptions(debug=env.debug, net=net_mode, interactive=req.interactive, hostname=req.hostname,
                      dns=req.dns, hosts_entries=req.hosts_entries, insecure_options=env.insecure,
                      settings=flavor.settings(env.config_dirs))


def check_host(flavor: Flavor, settings: Mapping[str, Any]) -> None:
    """Refuse a host the flavor says it cannot run on; print its warnings."""
    check = flavor.hook.rkt_stage1_host_check(settings=settings)
    for w in getattr(check, "warnings", ()) or ():
        sys.stderr.write(f"rkt: warning: {w}\n")
    if check is not None and not check.ok:
        raise RktError(f"the {flavor.name} flavor cannot run on this host: {check.reason}")


def check_pod(flavor: Flavor, manifest: PodManifest, images: Mapping[str, ImageManifest] | None,
              net_mode: str | None) -> None:
    """Refuse, before anything is made, a pod the flavor cannot run.

    ``rkt prepare`` knows neither the network mode (``net_mode`` None) nor whether the flavor
    that will run the pod enforces its isolators (``images`` None): ``run-prepared`` checks those.

    :param images: each app's image manifest, by app name.
    """
    from rkt_sdk.contract import unsupported

    if images is not None:
        check_isolators(flavor, manifest, images)
    why = unsupported(flavor.name, flavor.info.capabilities, net_mode=net_mode, app_count=len(manifest.apps))
    if why:
        raise RktError(why)
    if manifest.ports and net_mode in ("host", "none"):
        raise RktError(f"--port flag does not work with '{net_mode}' networking")


def check_isolators(flavor: Flavor, manifest: PodManifest, images: Mapping[str, ImageManifest]) -> None:
    """Refuse an isolator the flavor does not claim; warn for one an image brought (:mod:`rkt_sdk.contract`)."""
    from rkt_sdk.contract import unenforced_isolators

    from_images = {name: [i.to_dict() for i in m.app.isolators] if m.app else [] for name, m in images.items()}
    why, warnings = unenforced_isolators(flavor.name, flavor.info.capabilities.isolators, manifest, from_images)
    for w in warnings:
        sys.stderr.write(f"rkt: warning: {w}\n")
    if why:
        raise RktError(why)


def app_images(store: Store, manifest: PodManifest) -> dict[str, ImageManifest]:
    """Each app's image manifest, by app name (from the store, which has them in memory by now)."""
    return {a.name: store.manifest(a.image.id) for a in manifest.apps}


def open_store(env: Environment) -> Store:
    from rkt.store import Store

    return Store(env.data.store)


def build_manifest(req: PodRequest, env: Environment, store: Store) -> PodManifest:
    """The pod manifest: from ``--pod-manifest``, or built from the images and app flags."""
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
                         trust_keys_from_https=env.trust_keys_from_https, debug=env.debug)

    def resolve(ref: str) -> tuple[str, ImageManifest]:
        image_id = policy.find_id(store, ref, req.pull_policy)
        return image_id, store.manifest(image_id)

    return build_pod_manifest(req, resolve)


def guarded(uuid: str, lock: DirLock, env: Environment, flavor: Flavor, settings: Mapping[str, Any] | None,
            steps: Callable[[], T]) -> T:
    """Run the steps of a start; if any raises before the pod is running, undo everything the start made.

    The one place a failed ``prepare``, ``run`` or ``run-prepared`` is undone: the flavor's gc,
    the pod's networks, mounts and directory (:func:`rkt.pods.gc.discard_pod`). "Running" is
    :func:`rkt_sdk.contract.is_running`; a pod that is running is left for ``rkt gc``.
    """
    try:
        return steps()
    except BaseException:
        from rkt_sdk.contract import is_running

        if not is_running(lock.path):
            from rkt.pods.gc import FlavorCache, discard_pod

            flavors = FlavorCache(env.data, env.config_dirs, known=(flavor, settings))
            discard_pod(uuid, lock, env.data, env.config_dirs, flavors)
        raise


def make_pod(req: PodRequest, env: Environment, flavor: Flavor, store: Store, manifest: PodManifest,
             uuid: str, lock: DirLock) -> PreparedPod:
    """Write the pod (its lock held), save its UUID where asked, and tell the plugins."""
    from rkt.pods.prepare import prepare_pod
    from rkt.pods.rootfs import choose_overlay
    from rkt_sdk.podrecords import Stage1Record

    overlay = choose_overlay(not req.no_overlay, env.data.root, env.data.tmp)
    stage1 = Stage1Record(flavor.name, flavor.entry.dist_version, flavor.entry.dist, flavor.info.interface_version,
                          overlay, flavor.implements("rkt_stage1_status"),
                          flavor.info.capabilities.mutable and flavor.info.capabilities.control_socket)
    pod = prepare_pod(env.data, store, manifest, stage1, uuid, lock)
    if req.uuid_file_save:
        try:
            Path(req.uuid_file_save).write_text(pod.uuid)
        except OSError as e:
            raise RktError(f"--uuid-file-save={req.uuid_file_save}: {e.strerror}") from None
    flavor.hook.rkt_pod_event(event="prepared", uuid=pod.uuid, pod_path=pod.path)
    return pod


def prepare(req: PodRequest, env: Environment) -> PreparedPod:
    """``rkt prepare``: make a prepared pod for the request (its lock released); nothing is left if it fails."""
    from rkt.pods.prepare import new_pod

    flavor = select_flavor(env, req.stage1_name)
    store = open_store(env)
    manifest = build_manifest(req, env, store)
    check_pod(flavor, manifest, None, None)
    uuid, lock = new_pod(env.data)
    pod = guarded(uuid, lock, env, flavor, None, lambda: make_pod(req, env, flavor, store, manifest, uuid, lock))
    lock.release()
    return pod
