"""The hooks of the ``kvm`` flavor (entry point ``kvm`` in group ``rkt.stage1``).

libvirt and the VM kit are imported only inside the hooks that use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk import INTERFACE_VERSION, hookimpl
from rkt_sdk.types import Capabilities, ConfigField, EnterOptions, FlavorInfo, HostCheck, Pod, RunOptions
from rkt_stage1_kvm import __version__

NAME = "kvm"


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return FlavorInfo(NAME, __version__, INTERFACE_VERSION,
                      "each pod in its own virtual machine, a transient libvirt domain",
                      Capabilities(multi_app=True, isolators=frozenset({"resource/memory", "resource/cpu"}),
                                   network_modes=frozenset({"none", "contained"}), network_attachment="tap",
                                   mutable=False, enter=True, virtualized=True))


@hookimpl
def rkt_stage1_config_schema() -> list[ConfigField]:
    from rkt_stage1_kvm.settings import config_fields

    return config_fields()


@hookimpl
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:
    from rkt_stage1_kvm.domain import host_check

    return host_check(settings)


@hookimpl
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:
    from rkt_stage1_kvm.domain import run_pod

    return run_pod(pod, options)


@hookimpl
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    from rkt_sdk.vm.client import enter

    return enter(pod.path, options.app, options.command)


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_sdk.vm.client import SupervisorUnreachable, request_stop
    from rkt_stage1_kvm.domain import destroy_domain

    try:
        request_stop(pod.path, force, timeout)
    except SupervisorUnreachable:
        destroy_domain(pod.path, pod.uuid)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_stage1_kvm.domain import cleanup

    cleanup(pod_path, uuid, settings)


@hookimpl
def rkt_stage1_status(pod: Pod) -> dict[str, Any]:
    from rkt_sdk.vm.record import status_extras

    return status_extras(pod.path)
