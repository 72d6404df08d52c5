"""The hooks of the ``kvm`` flavor (entry point ``kvm`` in group ``rkt.stage1``).

libvirt and the VM kit are imported only inside the hooks that use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk import hookimpl
from rkt_sdk.types import ConfigField, FlavorInfo, HostCheck, Pod, RunOptions

# rkt_stage1_enter, rkt_stage1_status and the app hooks of mutable pods (rkt app ...): the VM kit's
# shared hooks, registered as this flavor's own
from rkt_sdk.vm.hooks import (  # noqa: F401
    rkt_stage1_app_add,
    rkt_stage1_app_reopen_log,
    rkt_stage1_app_rm,
    rkt_stage1_app_start,
    rkt_stage1_app_stop,
    rkt_stage1_enter,
    rkt_stage1_status,
    stop_vm,
    vm_flavor_info,
)
from rkt_stage1_kvm import __version__

NAME = "kvm"


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return vm_flavor_info(NAME, __version__, "each pod in its own virtual machine, a transient libvirt domain")


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
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_stage1_kvm.domain import destroy_domain

    stop_vm(pod, force, timeout, kill=destroy_domain)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_stage1_kvm.domain import cleanup

    cleanup(pod_path, uuid, settings)
