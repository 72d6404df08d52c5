"""The coreos flavor's hook implementations (entry point ``coreos`` in group ``rkt.stage1``).

Hooks import their machinery lazily: ``rkt flavors`` and ``describe`` pay for nothing.
"""

from __future__ import annotations

from rkt_sdk import INTERFACE_VERSION
from rkt_sdk.markers import hookimpl
from rkt_sdk.types import Capabilities, ConfigField, FlavorInfo
from rkt_stage1_coreos import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from rkt_sdk.types import AppOptions, AttachOptions, EnterOptions, HostCheck, Pod, PodApp, RunOptions

NAME = "coreos"


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    from rkt_stage1_coreos.plan import ISOLATORS

    return FlavorInfo(
        name=NAME, version=__version__, interface_version=INTERFACE_VERSION,
        summary="Linux namespaces, a supervisor as PID 1, cgroups, capabilities and seccomp",
        capabilities=Capabilities(multi_app=True, isolators=ISOLATORS,
                                  network_modes=frozenset({"host", "none", "contained"}),
                                  network_attachment="netns", mutable=True, enter=True, virtualized=False,
                                  control_socket=True))


@hookimpl
def rkt_stage1_config_schema() -> list[ConfigField]:
    return [
        ConfigField("cgroup_parent", "str", "machine.slice",
                    "cgroup under which each pod gets rkt-<uuid> (relative to the hierarchy roots)"),
        ConfigField("default_seccomp", "bool", True,
                    "apply the default seccomp filter to apps that set no seccomp isolator"),
    ]


@hookimpl
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:
    from rkt_stage1_coreos.hostcheck import check

    return check(settings)


@hookimpl
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:
    from rkt_stage1_coreos.start import run

    return run(pod, options)


@hookimpl
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    from rkt_stage1_coreos.lifecycle import enter

    return enter(pod, options)


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_stage1_coreos.lifecycle import stop

    stop(pod, force, timeout)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_stage1_coreos.lifecycle import gc

    gc(pod_path, uuid, settings)


@hookimpl
def rkt_stage1_status(pod: Pod) -> dict[str, Any]:
    from rkt_stage1_coreos.lifecycle import status

    return status(pod)


# --- mutable pods (rkt app ...) ---------------------------------------------------------


@hookimpl
def rkt_stage1_app_add(pod: Pod, app: PodApp, options: AppOptions) -> None:
    from rkt_stage1_coreos import apps

    apps.add(pod, app, options)


@hookimpl
def rkt_stage1_app_start(pod: Pod, app: str) -> None:
    from rkt_stage1_coreos import apps

    apps.start(pod, app)


@hookimpl
def rkt_stage1_app_stop(pod: Pod, app: str, force: bool, timeout: float) -> int | None:
    from rkt_stage1_coreos import apps

    return apps.stop(pod, app, force, timeout)


@hookimpl
def rkt_stage1_app_rm(pod: Pod, app: str, options: AppOptions) -> None:
    from rkt_stage1_coreos import apps

    apps.rm(pod, app, options)


@hookimpl
def rkt_stage1_app_status(pod: Pod, app: str) -> dict[str, Any]:
    from rkt_stage1_coreos import apps

    return apps.status(pod, app)


@hookimpl
def rkt_stage1_app_attach(pod: Pod, app: str, options: AttachOptions) -> int:
    from rkt_stage1_coreos import apps

    return apps.attach(pod, app, options)


@hookimpl
def rkt_stage1_app_reopen_log(pod: Pod, app: str) -> None:
    from rkt_stage1_coreos import apps

    apps.reopen_log(pod, app)
