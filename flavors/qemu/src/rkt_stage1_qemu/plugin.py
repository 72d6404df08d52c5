"""The hooks of the ``qemu`` flavor (entry point ``qemu`` in group ``rkt.stage1``).

Only :func:`rkt_stage1_describe` runs at load time; everything else imports the VM kit when
called, so ``rkt flavors`` and ``rkt list`` pay nothing for it.
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
from rkt_stage1_qemu import __version__

NAME = "qemu"
DEFAULT_MACHINE = "microvm"


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return vm_flavor_info(NAME, __version__, "each pod in its own virtual machine, run by QEMU directly (no daemon)")


@hookimpl
def rkt_stage1_config_schema() -> list[ConfigField]:
    from rkt_sdk.vm.settings import vm_config_fields

    return vm_config_fields(DEFAULT_MACHINE)


@hookimpl
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:
    from rkt_sdk.vm.podvm import vm_host_check
    from rkt_sdk.vm.settings import VMSettings

    return vm_host_check(VMSettings.from_mapping(settings, DEFAULT_MACHINE))


@hookimpl
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:
    from rkt_stage1_qemu.process import run_pod

    return run_pod(pod, options)


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_stage1_qemu.process import kill_qemu

    stop_vm(pod, force, timeout, kill=kill_qemu)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_stage1_qemu.process import cleanup

    cleanup(pod_path, uuid)
