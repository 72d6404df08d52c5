"""The hooks of the ``qemu`` flavor (entry point ``qemu`` in group ``rkt.stage1``).

Only :func:`rkt_stage1_describe` runs at load time; everything else imports the VM kit when
called, so ``rkt flavors`` and ``rkt list`` pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk import INTERFACE_VERSION, hookimpl
from rkt_sdk.types import Capabilities, ConfigField, EnterOptions, FlavorInfo, HostCheck, Pod, RunOptions
from rkt_stage1_qemu import __version__

NAME = "qemu"
DEFAULT_MACHINE = "microvm"


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return FlavorInfo(NAME, __version__, INTERFACE_VERSION,
                      "each pod in its own virtual machine, run by QEMU directly (no daemon)",
                      Capabilities(multi_app=True, isolators=frozenset({"resource/memory", "resource/cpu"}),
                                   network_modes=frozenset({"none", "contained"}), network_attachment="tap",
                                   mutable=False, enter=True, virtualized=True))


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
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    from rkt_sdk.vm.client import enter

    return enter(pod.path, options.app, options.command)


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_sdk.vm.client import SupervisorUnreachable, request_stop
    from rkt_stage1_qemu.process import kill_qemu

    try:
        request_stop(pod.path, force, timeout)
    except SupervisorUnreachable:
        kill_qemu(pod.path, pod.uuid)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_stage1_qemu.process import cleanup

    cleanup(pod_path, uuid)


@hookimpl
def rkt_stage1_status(pod: Pod) -> dict[str, Any]:
    from rkt_sdk.vm.record import status_extras

    return status_extras(pod.path)
