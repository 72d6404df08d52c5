"""Starting a pod: ``rkt run`` and ``rkt run-prepared`` share one start path.

:func:`run` checks and prepares a pod, :func:`run_prepared` takes one made by ``rkt prepare``;
both hand a :class:`~rkt.pods.prepare.PreparedPod` to :func:`start`, which moves it to
``run``, mounts the apps' roots, attaches its networks, writes its DNS files and calls the
flavor. What the start needs travels in memory; nothing written by this process is read back.
Any exception before the pod is running undoes the whole start (:func:`~rkt.podflow.prepare.guarded`).
"""

from __future__ import annotations

import os

from rkt.apps.request import PodRequest
from rkt.paths import Environment
from rkt.podflow.prepare import (
    app_images,
    build_manifest,
    check_host,
    check_pod,
    guarded,
    make_pod,
    net_request,
    open_store,
    run_options,
    select_flavor,
)
from rkt_sdk.errors import RktError
from rkt_sdk.poddir import PodDir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    #: called with the pod's path just before its flavor runs it; returns what to call once the flavor is done
    OnStart = Callable[[Path], Callable[[], None]]

    from rkt.net import NetSpec
    from rkt.pods.prepare import PreparedPod
    from rkt.stage1.loader import Flavor
    from rkt_sdk.types import NetworkAttachment, RunOptions


def run(req: PodRequest, env: Environment, on_start: OnStart | None = None) -> int:
    """``rkt run``: prepare the pod, then run it in the foreground; the pod's exit code.

    ``on_start(path)`` is called once the pod is in ``run``, just before its flavor runs it;
    what it returns is called once the flavor is done with the pod.
    """
    from rkt.pods.prepare import new_pod

    flavor = select_flavor(env, req.stage1_name)
    net_mode, spec = net_request(req.net, flavor)
    options = run_options(req, env, flavor, net_mode)
    check_host(flavor, options.settings)
    store = open_store(env)
    manifest = build_manifest(req, env, store)
    check_pod(flavor, manifest, app_images(store, manifest), net_mode)
    uuid, lock = new_pod(env.data)

    def steps() -> int:
        pod = make_pod(req, env, flavor, store, manifest, uuid, lock)
        return start(pod, flavor, options, spec, env, on_start)

    return guarded(uuid, lock, env, flavor, options.settings, steps)


def run_prepared(uuid: str, req: PodRequest, env: Environment) -> int:
    """``rkt run-prepared``: run a pod made by ``rkt prepare``; exactly one caller wins a race.

    A pod the checks refuse stays prepared.
    """
    from rkt.pods.layout import find_pod
    from rkt.pods.lock import DirLock, PodLocked
    from rkt.pods.prepare import read_prepared
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
    try:
        if not ref.path.exists():
            raise RktError(f'pod "{ref.uuid}" is not prepared any more (another process ran it)')
        flavor = load_flavor(PodDir(ref.path).read_stage1().name, env.data.cache)
        net_mode, spec = net_request(req.net, flavor)
        options = run_options(req, env, flavor, net_mode)
        check_host(flavor, options.settings)
        pod = read_prepared(ref.uuid, lock)
        pd = PodDir(ref.path)
        check_pod(flavor, pod.manifest, {a.name: pd.read_app_image(a.name) for a in pod.manifest.apps}, net_mode)
    except BaseException:
        lock.release()
        raise
    return guarded(ref.uuid, lock, env, flavor, options.settings, lambda: start(pod, flavor, options, spec, env))


def start(pod: PreparedPod, flavor: Flavor, options: RunOptions, spec: NetSpec | None, env: Environment,
          on_start: OnStart | None = None) -> int:
    """Move the prepared pod to ``run``, set it up, and run it through its flavor; its exit code.

    The caller holds the pod lock (``pod.lock``) and undoes the start if this raises before
    the pod is running. The lock is handed to the flavor (inheritable) and lives as long as
    the pod's processes.
    """
    from rkt.pods.rootfs import mount_app_roots
    from rkt_sdk.contract import hook_failure

    run_path = env.data.pod_state_dir("run") / pod.uuid
    os.rename(pod.path, run_path)
    pod.lock.path = run_path
    pd = PodDir(run_path)
    mount_app_roots(pd, pod.lowers)
    pd.stamp("started")
    pd.write_stop_timeout(options.stop_timeout)
    netns, attachments = _network(pd, pod, flavor, options, spec, env)
    if spec is not None or options.hosts_entries or options.dns.mode != "default":
        from rkt import net

        net.write_dns_files(run_path, options.dns, options.hosts_entries, options.hostname or f"rkt-{pod.uuid}",
                            attachments)
    flavor.hook.rkt_pod_event(event="started", uuid=pod.uuid, pod_path=run_path)
    done = on_start(run_path) if on_start is not None else None
    seen = pd.pod(pod.uuid, pod.manifest, pod.lock.inheritable(), netns, attachments)
    try:
        code = flavor.hook.rkt_stage1_run(pod=seen, options=options)
    except Exception as e:
        failure = hook_failure(flavor.name, e)
        if failure is e:
            raise
        raise failure from e
    finally:
        if done is not None:
            done()
    flavor.hook.rkt_pod_event(event="exited", uuid=pod.uuid, pod_path=run_path)
    return int(code if code is not None else 0)


def _network(pd: PodDir, pod: PreparedPod, flavor: Flavor, options: RunOptions, spec: NetSpec | None,
             env: Environment) -> tuple[Path | None, tuple[NetworkAttachment, ...]]:
    """Attach the pod's networks (nothing for the host's network)."""
    if spec is None or options.net == "host":
        return None, ()
    from rkt import net

    return net.setup(pod_path=pd.path, uuid=pod.uuid, spec=spec, config_dirs=env.config_dirs, data_dir=env.data.root,
                     attachment=flavor.info.capabilities.network_attachment, ports=pod.manifest.ports,
                     manifest=pod.manifest)
