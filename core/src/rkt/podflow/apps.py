"""Mutable pods: the library behind ``rkt app sandbox|add|start|stop|rm|list|status``.

A sandbox is a pod started by ``rkt run``'s flow with no apps and the pod-manifest
annotation :data:`rkt_sdk.appio.MUTABLE_ANNOTATION`; its flavor keeps it up. Apps then join
and leave it through the flavor's ``rkt_stage1_app_*`` hooks.

**Consistency across a crash.** The ``rkt app`` commands of one pod run one at a time (a
flock(2) on :attr:`PodDir.app_lock_path`, released by the kernel if the command dies). An
app is in the pod exactly when the pod manifest names it, and the manifest is replaced
atomically: ``add`` renders the app's root, records its image and asks the flavor to make
ready, and only then writes the manifest naming it; ``rm`` stops the app, writes the
manifest without it, and only then releases what the app held. Whatever a killed command
left of an app the manifest does not name is released by :func:`reconcile`, which every
command that changes the pod runs first (and ``rkt gc`` removes with the pod).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rkt_sdk.appc import KV, Mount, PodManifest, RuntimeApp, Volume, validate_ac_name
from rkt_sdk.appio import MUTABLE_ANNOTATION, STDIO_ANNOTATIONS
from rkt_sdk.errors import ManifestError, RktError
from rkt_sdk.poddir import AppState, PodDir
from rkt_sdk.record import Record, replace
from rkt_sdk.types import AppOptions, Pod, PodApp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt.apps.request import AppRequest, PodRequest
    from rkt.paths import Environment
    from rkt.podflow.start import OnStart
    from rkt.stage1.loader import Flavor


class AppError(RktError):
    """An ``rkt app`` request the pod cannot satisfy."""


class MutablePod(Record):
    """A running mutable pod as an ``rkt app`` command sees it."""

    uuid: str
    pd: PodDir
    pod: Pod
    flavor: Flavor
    env: Environment

    @property
    def manifest(self) -> PodManifest:
        return self.pod.manifest

    @property
    def options(self) -> AppOptions:
        """What the flavor's add and rm hooks get (the flavor's settings are read here: start and stop need none)."""
        env = self.env
        return AppOptions(debug=env.debug, insecure_options=env.insecure,
                          settings=self.flavor.settings(env.config_dirs))

    def app(self, name: str) -> RuntimeApp:
        ra = self.manifest.app(name)
        if ra is None:
            raise AppError(f'pod "{self.uuid}" has no app "{name}"')
        return ra


def require_mutable(flavor: Flavor) -> None:
    """Refuse a flavor that cannot change a running pod's apps, naming it."""
    if not flavor.info.capabilities.mutable or not flavor.implements("rkt_stage1_app_start"):
        raise AppError(f"the {flavor.name} flavor cannot run mutable pods ('rkt app' needs a flavor "
                       "whose capabilities include mutable pods, such as coreos; see 'rkt flavors')")


def sandbox(req: PodRequest, env: Environment, on_start: OnStart | None = None) -> int:
    """``rkt app sandbox``: run a pod of no apps in the foreground until it is stopped.

    ``on_start``: as :func:`rkt.podflow.start.run` takes it (the CLI starts the pod's app
    server there, :mod:`rkt.podflow.appserver`).
    """
    from rkt.podflow.prepare import select_flavor
    from rkt.podflow.start import run

    if req.apps or req.pod_manifest:
        raise AppError("a sandbox starts with no apps: add them with 'rkt app add'")
    require_mutable(select_flavor(env, req.stage1_name))
    req = replace(req, annotations=(*req.annotations, KV(MUTABLE_ANNOTATION, "true")))
    return run(req, env, on_start)


def _read_pod(pd: PodDir, uuid: str) -> Pod:
    try:
        return pd.read_pod(uuid)
    except (OSError, ManifestError) as e:
        raise AppError(f'pod "{uuid}": cannot read its manifest: {e}') from None


def _flavor_name(pd: PodDir, uuid: str) -> str:
    from rkt_sdk.errors import PodDirError

    try:
        return pd.read_stage1().name
    except PodDirError as e:
        raise AppError(str(e)) from None


def open_pod(env: Environment, uuid: str) -> MutablePod:
    """The running mutable pod ``uuid`` (a unique prefix will do).

    :raises AppError: no such pod, not running, its flavor cannot change apps, or it was
        not started by ``rkt app sandbox``.
    """
    from rkt.pods.layout import find_pod
    from rkt.stage1.loader import load_flavor

    ref = find_pod(env.data, uuid)
    state = ref.state()
    if state != "running":
        raise AppError(f'pod "{ref.uuid}" is not running (state: {state})')
    pd = PodDir(ref.path)
    flavor = load_flavor(_flavor_name(pd, ref.uuid), env.data.cache)
    require_mutable(flavor)
    pod = _read_pod(pd, ref.uuid)
    if not pod.mutable:
        raise AppError(f'pod "{ref.uuid}" was not started by \'rkt app sandbox\': its apps are fixed')
    return MutablePod(ref.uuid, pd, pod, flavor, env)


@contextmanager
def app_lock(mp: MutablePod) -> Iterator[MutablePod]:
    """Hold the pod's ``rkt app`` lock (blocking); yields the pod as it is once the lock is held."""
    from rkt.filelock import file_lock

    path = mp.pd.app_lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        if not mp.pd.manifest_path.exists():
            raise AppError(f'pod "{mp.uuid}" is gone')
        yield replace(mp, pod=_read_pod(mp.pd, mp.uuid))


def reconcile(mp: MutablePod) -> list[str]:
    """Release every trace of an app the manifest does not name (what a killed command left).

    Called with the pod's app lock held. :returns: the names released.
    """
    stale = sorted(mp.pd.apps_on_disk() - {a.name for a in mp.manifest.apps})
    for name in stale:
        discard(mp, name)
    return stale


def discard(mp: MutablePod, name: str) -> None:
    """Release what an app that is not (or no longer) in the manifest holds: flavor, root, records."""
    from rkt_sdk.linux.mount import remove_unmounted

    mp.flavor.hook.rkt_stage1_app_rm(pod=mp.pod, app=name, options=mp.options)
    for d in mp.pd.app_dirs(name):
        left = remove_unmounted(d)
        if left is not None:
            raise AppError(f"app {name!r}: {left} is still mounted")
    mp.pd.forget_app(name)
    try:
        os.unlink(mp.pd.app_log_path(name))
    except FileNotFoundError:
        pass


def _write_manifest(mp: MutablePod, manifest: PodManifest) -> None:
    mp.pd.write_manifest(manifest)


def _runtime_app(mp: MutablePod, req: AppRequest, modes: tuple[str, str, str], image_id: str,
                 im: Any) -> tuple[RuntimeApp, tuple[Volume, ...]]:
    """The new app's manifest entry and the pod's volumes with any it brings (empty volumes)."""
    from rkt.apps.manifest import app_name_for, build_app
    from rkt.apps.request import PodRequest

    name = req.name or app_name_for(im.name)
    try:
        validate_ac_name(name, "--name")
    except ManifestError as e:
        raise AppError(str(e)) from None
    if mp.manifest.app(name) is not None:
        raise AppError(f'pod "{mp.uuid}" already has an app "{name}" (remove it first, or choose another --name)')
    volumes = list(mp.manifest.volumes)
    ra = build_app(req, image_id, im, PodRequest(apps=(), volumes=tuple(volumes)), name)
    names = {v.name for v in volumes}
    for m in ra.mounts:
        if m.volume not in names:
            raise AppError(f'app "{name}" mounts volume "{m.volume}", which the pod does not have')
    for mpt in ra.app.mount_points:
        if not any(m.path == mpt.path for m in ra.mounts):
            vol = f"{name}-{mpt.name}"  # an empty volume of this app's own
            volumes.append(Volume(vol, "empty", read_only=mpt.read_only))
            ra = replace(ra, mounts=(*ra.mounts, Mount(vol, mpt.path)))
    stdio = tuple(KV(k, v) for k, v in zip(STDIO_ANNOTATIONS, modes, strict=True))
    ra = replace(ra, annotations=(*(kv for kv in ra.annotations if kv.name not in STDIO_ANNOTATIONS), *stdio))
    return ra, tuple(volumes)


def _render(mp: MutablePod, store: Any, name: str, image_id: str) -> None:
    """The app's image record and root filesystem in the pod (mounted when overlaid)."""
    import functools
    import json

    from rkt.pods.rootfs import mount_app_roots, prepare_app_dirs

    lowers = store.rootfs_layers(image_id)
    mp.pd.write_app_image(name, json.dumps(store.manifest(image_id).to_dict()) + "\n", store.tree_ids(image_id),
                          lowers)
    overlay = mp.pd.read_stage1().overlay
    prepare_app_dirs(mp.pd, name, lowers, overlay, functools.partial(store.flatten, image_id))
    if overlay:
        mount_app_roots(mp.pd, {name: lowers})
    store.touch(image_id)


def add_app(env: Environment, uuid: str, req: AppRequest, modes: tuple[str, str, str]) -> str:
    """``rkt app add``: the app joins the pod, not started; returns its name."""
    from rkt.store import Store
    from rkt.trust.policy import ImagePolicy

    with app_lock(open_pod(env, uuid)) as mp:
        reconcile(mp)
        policy = ImagePolicy(env.config_dirs, env.insecure, {req.image: Path(req.signature)} if req.signature else {},
                             trust_keys_from_https=env.trust_keys_from_https, debug=env.debug)
        with Store(env.data.store) as store:
            image_id = policy.find_id(store, req.image)
            ra, volumes = _runtime_app(mp, req, modes, image_id, store.manifest(image_id))
            manifest = replace(mp.manifest, apps=(*mp.manifest.apps, ra), volumes=volumes)
            try:
                _render(mp, store, ra.name, image_id)
                mp.flavor.hook.rkt_stage1_app_add(pod=mp.pod, app=PodApp(ra.name, mp.pd.app_rootfs(ra.name), ra),
                                                  options=mp.options)
                mp.pd.record_app_created(ra.name)
                _write_manifest(mp, manifest)  # the app is in the pod from here on
            except BaseException:
                discard(mp, ra.name)
                raise
        return ra.name


def start_app(env: Environment, uuid: str, name: str) -> None:
    """``rkt app start``: start an added (or exited) app."""
    with app_lock(open_pod(env, uuid)) as mp:
        reconcile(mp)
        mp.app(name)
        if mp.pd.app_state(name).state == "running":
            raise AppError(f'app "{name}" of pod "{mp.uuid}" is already running')
        mp.flavor.hook.rkt_stage1_app_start(pod=mp.pod, app=name)


def stop_app(env: Environment, uuid: str, name: str, *, force: bool = False, timeout: float = 10.0) -> int | None:
    """``rkt app stop``: SIGTERM, SIGKILL after ``timeout``; the app's exit code (None if it was not running)."""
    with app_lock(open_pod(env, uuid)) as mp:
        mp.app(name)
        return _stop(mp, name, force, timeout)


def _stop(mp: MutablePod, name: str, force: bool, timeout: float) -> int | None:
    if mp.pd.app_state(name).state != "running":
        return None
    code = mp.flavor.hook.rkt_stage1_app_stop(pod=mp.pod, app=name, force=force, timeout=timeout)
    return None if code is None else int(code)


def rm_app(env: Environment, uuid: str, name: str, *, timeout: float = 10.0) -> None:
    """``rkt app rm``: stop the app if it runs, take it out of the pod, release what it held."""
    with app_lock(open_pod(env, uuid)) as mp:
        reconcile(mp)
        mp.app(name)
        _stop(mp, name, False, timeout)
        manifest = replace(mp.manifest, apps=tuple(a for a in mp.manifest.apps if a.name != name))
        _write_manifest(mp, manifest)  # the app is out of the pod from here on
        discard(replace(mp, pod=_read_pod(mp.pd, mp.uuid)), name)


class AppStatus(Record):
    """One app of a mutable pod as ``rkt app list`` and ``rkt app status`` show it."""

    app: RuntimeApp
    state: AppState
    extra: Any = None

    def to_json(self) -> dict[str, Any]:
        """rkt's JSON form (times in ns since the epoch, as ``rkt status --format=json``)."""
        s = self.state
        d: dict[str, Any] = {"name": self.app.name, "state": s.state, "image_id": self.app.image.id,
                             "image_name": self.app.image.name}
        for key, value in (("created_at", s.created), ("started_at", s.started), ("finished_at", s.finished)):
            if value:
                d[key] = value
        if s.exit_code is not None:
            d["exit_code"] = s.exit_code
        if s.pid is not None:
            d["pid"] = s.pid
        ann = {kv.name: kv.value for kv in self.app.annotations}
        d["stdin"], d["stdout"], d["stderr"] = (ann.get(k, "") for k in STDIO_ANNOTATIONS)
        d["mounts"] = [m.to_dict() for m in self.app.mounts]
        d["user_annotations"] = {k: v for k, v in ann.items() if k not in STDIO_ANNOTATIONS}
        if self.extra:
            d["stage1_status"] = dict(self.extra)
        return d


def list_apps(env: Environment, uuid: str) -> list[AppStatus]:
    """``rkt app list``: every app the pod's manifest names, with its recorded state."""
    mp = open_pod(env, uuid)
    return [AppStatus(a, mp.pd.app_state(a.name)) for a in mp.manifest.apps]


def app_status(env: Environment, uuid: str, name: str) -> AppStatus:
    """``rkt app status``: one app's recorded state, and the flavor's extra fields."""
    mp = open_pod(env, uuid)
    ra = mp.app(name)
    extra = None
    if mp.flavor.implements("rkt_stage1_app_status"):
        extra = mp.flavor.hook.rkt_stage1_app_status(pod=mp.pod, app=name)
    return AppStatus(ra, mp.pd.app_state(name), extra)


def attach_app(env: Environment, uuid: str, name: str, *, stdin: bool, detach_keys: bytes) -> int:
    """``rkt attach``: the caller's stdio to an app's streams; the app's exit code, or 0 once detached."""
    from rkt_sdk.types import AttachOptions

    mp = open_pod(env, uuid)
    mp.app(name)
    if not mp.flavor.implements("rkt_stage1_app_attach"):
        raise AppError(f"the {mp.flavor.name} flavor cannot attach to apps")
    opts = AttachOptions(stdin=stdin, detach_keys=detach_keys, settings=mp.options.settings)
    return int(mp.flavor.hook.rkt_stage1_app_attach(pod=mp.pod, app=name, options=opts) or 0)


def reopen_log(env: Environment, uuid: str, name: str) -> None:
    """Have the flavor open an app's log file again by its name (after a rotation)."""
    mp = open_pod(env, uuid)
    mp.app(name)
    mp.flavor.hook.rkt_stage1_app_reopen_log(pod=mp.pod, app=name)
