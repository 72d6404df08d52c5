"""Turning parsed ``run``/``prepare`` flags into a :class:`~rkt.apps.request.PodRequest`."""

from __future__ import annotations

from types import SimpleNamespace

from rkt.apps import flags as F
from rkt.apps.request import AppRequest, PodRequest
from rkt.cli.context import GlobalOptions
from rkt.paths import DataDir, Environment
from rkt_sdk.appc import Isolator
from rkt_sdk.errors import RktError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

_APP_FIELDS = ("exec", "name", "user", "group", "supplementary_gids", "working_dir", "memory", "cpu",
               "cpu_shares", "caps_retain", "caps_remove", "seccomp", "oom_score_adj", "readonly_rootfs")


def environment(g: GlobalOptions) -> Environment:
    return Environment(DataDir(g.dir), g.config_dirs, g.insecure_options, g.debug, g.trust_keys_from_https)


def conflicting(pod: argparse.Namespace, apps: list[argparse.Namespace], command: str) -> None:
    """rkt's checks of flags that cannot go together."""
    if pod.store_only and pod.no_store:
        raise RktError("both --store-only and --no-store specified")
    if pod.pod_manifest and (apps or pod.volume or pod.port or pod.inherit_env or pod.set_env or pod.set_env_file
                             or pod.store_only or pod.no_store or pod.pull_policy != "new"
                             or any(getattr(pod, f) for f in ("exec", "user", "group")) or pod.mount):
        raise RktError("conflicting flags set with --pod-manifest (see --help)")
    if getattr(pod, "interactive", False) and len(apps) > 1:
        raise RktError("interactive option only supports one image")
    if not apps and not pod.pod_manifest:
        raise RktError("must provide at least one image or specify the pod manifest")
    if pod.private_users:
        raise RktError("--private-users is not supported by this rkt")


_STAGE1_FLAGS = ("stage1_name", "stage1_path", "stage1_url", "stage1_from_dir", "stage1_hash")


def stage1_name(pod: argparse.Namespace) -> str:
    """The flavor the ``--stage1-*`` flags choose ("" for the configured default).

    rkt's stage1 image names and files (``coreos.com/rkt/stage1-fly:1.30.0``, ``stage1-kvm.aci``)
    name the flavor of the same kind (:mod:`rkt.config.stage1_images`).

    :raises RktError: several of the flags, or an image that is not one of rkt's stage1 images.
    """
    given = [(f, getattr(pod, f)) for f in _STAGE1_FLAGS if getattr(pod, f)]
    if not given:
        return ""
    flags = ["--" + f.replace("_", "-") for f, _ in given]
    if len(given) > 1:
        raise RktError(f"{' and '.join(flags)}: give only one of --stage1-{{name,path,url,from-dir,hash}}")
    from rkt.config.stage1_images import flavor_of_location, flavor_of_name

    (field, value), flag = given[0], flags[0]
    if field == "stage1_name":
        return flavor_of_name(value)
    flavor = flavor_of_location(value) if field != "stage1_hash" else None
    if flavor is None:
        raise RktError(f"{flag}={value}: stage1 flavors are Python distributions here; choose one with "
                       "--stage1-name (see 'rkt flavors'), or name one of rkt's stage1-{fly,coreos,kvm}.aci")
    return flavor


def _isolators(ns: argparse.Namespace | SimpleNamespace) -> tuple[Isolator, ...]:
    out = []
    if ns.memory:
        out.append(F.memory(ns.memory))
    if ns.cpu:
        out.append(F.cpu(ns.cpu))
    if ns.cpu_shares:
        out.append(F.cpu_shares(ns.cpu_shares))
    if ns.caps_retain:
        out.append(F.caps("caps-retain", ns.caps_retain))
    if ns.caps_remove:
        out.append(F.caps("caps-remove", ns.caps_remove))
    if ns.seccomp:
        out.append(F.seccomp(ns.seccomp))
    if ns.oom_score_adj:
        out.append(F.oom_score_adj(ns.oom_score_adj))
    return tuple(out)


def _gids(value: str | None) -> tuple[int, ...]:
    if not value:
        return ()
    try:
        gids = tuple(int(g) for g in value.split(","))
    except ValueError:
        raise F.FlagError(f"--supplementary-gids={value}: expected comma-separated numbers") from None
    if any(not 0 <= g <= F.MAX_ID for g in gids):
        raise F.FlagError(f"--supplementary-gids={value}: ids go from 0 to {F.MAX_ID}")
    return gids


def _app(ns: argparse.Namespace, defaults: argparse.Namespace | SimpleNamespace) -> AppRequest:
    def pick(field: str) -> object:
        v = getattr(ns, field)
        return v if v not in (None, "", []) else getattr(defaults, field)

    merged = SimpleNamespace(**{f: pick(f) for f in _APP_FIELDS})
    if merged.name:
        F.app_name(str(merged.name))
    for flag in ("user", "group"):
        if getattr(merged, flag):
            F.user_or_group(flag, str(getattr(merged, flag)))
    if merged.exec and not str(merged.exec).startswith("/"):
        raise F.FlagError(f"--exec={merged.exec}: the path must be absolute")
    if merged.working_dir and not str(merged.working_dir).startswith("/"):
        raise F.FlagError(f"--working-dir={merged.working_dir}: the path must be absolute")
    env = tuple(F.env_pair("environment", v) for v in defaults.environment + ns.environment)
    mounts = tuple(F.mount(v) for v in defaults.mount + ns.mount)
    annotations = tuple(F.annotation("user-annotation", v) for v in defaults.user_annotation + ns.user_annotation)
    return AppRequest(image=ns.image, name=merged.name or "", exec=merged.exec or "",
                      args=tuple(ns.args) if ns.args is not None else None, user=str(merged.user or ""),
                      group=str(merged.group or ""), supplementary_gids=_gids(merged.supplementary_gids),
                      working_dir=merged.working_dir or "", environment=env, mounts=mounts,
                      isolators=_isolators(merged), readonly_rootfs=bool(merged.readonly_rootfs),
                      annotations=annotations, signature=ns.signature or "")


def make_request(pod: argparse.Namespace, apps: list[argparse.Namespace], command: str = "run") -> PodRequest:
    """The request of ``rkt run`` or ``rkt prepare`` from its parsed flags."""
    from rkt.cli.podflags import network_fields, refuse_runtime_flags

    if command == "prepare":
        refuse_runtime_flags(pod)
        network: dict[str, object] = {}
    else:
        network = network_fields(pod)
    set_env_file = tuple(kv for f in pod.set_env_file for kv in F.env_file(f))
    return PodRequest(
        apps=tuple(_app(a, pod) for a in apps), pod_manifest=pod.pod_manifest,
        volumes=tuple(F.volume(v) for v in pod.volume), ports=tuple(F.port(p) for p in pod.port),
        set_env=tuple(F.env_pair("set-env", v) for v in pod.set_env), set_env_file=set_env_file,
        inherit_env=pod.inherit_env, stage1_name=stage1_name(pod), interactive=getattr(pod, "interactive", False),
        uuid_file_save=pod.uuid_file_save, no_overlay=pod.no_overlay, quiet=getattr(pod, "quiet", False),
        pull_policy="never" if pod.store_only else "update" if pod.no_store else pod.pull_policy,
        **network)  # type: ignore[arg-type]


def app_request(ns: argparse.Namespace) -> AppRequest:
    """One app's request from its parsed app flags alone (``rkt app add``: no pod-wide defaults)."""
    from rkt.cli.podflags import APP_FLAGS

    defaults = SimpleNamespace(**{f.dest: f.initial for f in APP_FLAGS})
    return _app(ns, defaults)
