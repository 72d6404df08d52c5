"""Building the pod manifest from the apps asked for and their images' manifests.

Environment precedence, last wins (as rkt): the caller's environment (``--inherit-env``),
the image's, ``--set-env-file``, ``--set-env``, the app's ``--environment``.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable

from rkt.apps.request import AppRequest, PodRequest
from rkt_sdk.appc import KV, App, ImageManifest, ImageRef, Isolator, Mount, PodManifest, RuntimeApp, Volume
from rkt_sdk.errors import RktError
from rkt_sdk.record import replace

#: Resolves an image reference to ``(image id, image manifest)``, fetching it if needed.
ImageResolver = Callable[[str], tuple[str, ImageManifest]]


class PodSpecError(RktError):
    """The apps and flags given do not make a valid pod."""


def app_name_for(image_name: str) -> str:
    """rkt's default app name: the last path component of the image name, made an ACName."""
    base = posixpath.basename(image_name.rstrip("/")) or "app"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in base.lower()).strip("-")
    return name or "app"


def _merge_env(*layers: tuple[KV, ...] | list[KV]) -> tuple[KV, ...]:
    env: dict[str, str] = {}
    for layer in layers:
        for kv in layer:
            env.pop(kv.name, None)
            env[kv.name] = kv.value
    return tuple(KV(k, v) for k, v in env.items())


def _merge_isolators(base: tuple[Isolator, ...], over: tuple[Isolator, ...]) -> tuple[Isolator, ...]:
    names = {i.name for i in over}
    return tuple(i for i in base if i.name not in names) + over


def _docker_entrypoint(im: ImageManifest) -> list[str] | None:
    """A Docker/OCI image's Entrypoint (run's arguments replace its Cmd, as docker's do), or None for an ACI."""
    import json

    for kv in im.annotations:
        if kv.name == "appc.io/docker/entrypoint":
            try:
                value = json.loads(kv.value)
            except ValueError:
                return None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
    return None


def build_app(req: AppRequest, image_id: str, im: ImageManifest, pod: PodRequest, name: str) -> RuntimeApp:
    """The pod manifest entry of one app: the image's app section with the CLI's overrides."""
    app = im.app or App()
    if not app.exec and not req.exec:
        raise PodSpecError(f'image "{req.image}" has no app to run; give one with --exec')
    exec_ = [req.exec] if req.exec else list(app.exec)
    if req.args is not None:
        entrypoint = _docker_entrypoint(im)
        exec_ = entrypoint + list(req.args) if entrypoint is not None and not req.exec else exec_ + list(req.args)
    inherited = [KV(k, v) for k, v in os.environ.items()] if pod.inherit_env else []
    env = _merge_env(inherited, app.environment, pod.set_env_file, pod.set_env, req.environment)
    new = replace(app, exec=tuple(exec_), environment=env,
                  user=req.user or app.user, group=req.group or app.group,
                  supplementary_gids=req.supplementary_gids or app.supplementary_gids,
                  working_directory=req.working_dir or app.working_directory,
                  isolators=_merge_isolators(app.isolators, req.isolators))
    mounts = list(req.mounts)
    taken = {m.path for m in mounts}
    for mp in app.mount_points:
        if mp.path not in taken and any(v.name == mp.name for v in pod.volumes):
            mounts.append(Mount(mp.name, mp.path))
            taken.add(mp.path)
    labels = tuple(kv for kv in im.labels if kv.name in ("version", "os", "arch"))
    annotations = req.annotations
    stop = [kv for kv in im.annotations if kv.name == "appc.io/docker/stopsignal"]
    if stop and not any(kv.name == stop[0].name for kv in annotations):
        annotations = (*annotations, stop[0])  # the image's StopSignal, for the flavor's stop
    return RuntimeApp(name, ImageRef(im.name, image_id, labels), new, tuple(mounts), req.readonly_rootfs,
                      annotations)


def build_pod_manifest(pod: PodRequest, resolve: ImageResolver) -> PodManifest:
    """The pod manifest for a request; images are resolved (and fetched) through ``resolve``."""
    apps: list[RuntimeApp] = []
    used: set[str] = set()
    for req in pod.apps:
        image_id, im = resolve(req.image)
        name = req.name or app_name_for(im.name)
        if name in used:
            if req.name:
                raise PodSpecError(f'app name "{name}" is used twice; give each app its own --name')
            n = 2
            while f"{name}-{n}" in used:
                n += 1
            name = f"{name}-{n}"
        used.add(name)
        apps.append(build_app(req, image_id, im, pod, name))
    volumes = list(pod.volumes)
    names = [v.name for v in volumes]
    for v in names:
        if names.count(v) > 1:
            raise PodSpecError(f'volume "{v}" is defined twice')
    for a in apps:
        for m in a.mounts:
            if m.volume not in names:
                raise PodSpecError(f'app "{a.name}" mounts volume "{m.volume}", which no --volume defines')
        for mp in (a.app.mount_points or ()):
            if mp.name not in names and not any(m.path == mp.path for m in a.mounts):
                # rkt makes an empty volume for a mount point nobody filled; the mount point's
                # readOnly applies to it (the volume sets none: see rkt_sdk.resolved)
                volumes.append(Volume(mp.name, "empty"))
                names.append(mp.name)
                a_mounts = (*a.mounts, Mount(mp.name, mp.path))
                apps[apps.index(a)] = a = replace(a, mounts=a_mounts)
    app_ports = {p.name for a in apps for p in a.app.ports}
    for p in pod.ports:
        if p.name not in app_ports:
            raise PodSpecError(f'--port={p.name}:{p.host_port}: no app of the pod declares a port named "{p.name}"')
    return PodManifest(tuple(apps), tuple(volumes), pod.ports, (), pod.annotations)
