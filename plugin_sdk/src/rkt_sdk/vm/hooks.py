"""Hook implementations every VM flavor shares, and the pieces of the ones that differ.

A VM flavor's plugin module imports the shared hooks, and pluggy registers them as the
flavor's own (a plugin module's hooks are its marked attributes, wherever defined)::

    from rkt_sdk.vm.hooks import rkt_stage1_enter, rkt_stage1_status  # noqa: F401
    from rkt_sdk.vm.hooks import rkt_stage1_app_add, rkt_stage1_app_start, ...  # noqa: F401 (mutable pods)

    @hookimpl
    def rkt_stage1_describe() -> FlavorInfo:
        return vm_flavor_info("myvm", __version__, "each pod in its own VM, run by ...")

    @hookimpl
    def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
        stop_vm(pod, force, timeout, kill=my_kill)

Only :mod:`rkt_sdk.markers` and :mod:`rkt_sdk.types` are imported with this module; the VM
kit is imported inside the hooks, so ``rkt flavors`` and ``rkt list`` pay nothing for it.
"""

from __future__ import annotations

from rkt_sdk import INTERFACE_VERSION
from rkt_sdk.markers import hookimpl
from rkt_sdk.types import AppOptions, Capabilities, EnterOptions, FlavorInfo, Pod, PodApp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

#: What a VM flavor of this kit supports: several apps, memory and CPU limits, tap networking,
#: mutable pods (its plugin module imports the ``rkt_stage1_app_*`` hooks below; no attach).
VM_CAPABILITIES = Capabilities(multi_app=True, isolators=frozenset({"resource/memory", "resource/cpu"}),
                               network_modes=frozenset({"none", "contained"}), network_attachment="tap",
                               mutable=True, enter=True, virtualized=True)



def vm_flavor_info(name: str, version: str, summary: str) -> FlavorInfo:
    """The :class:`FlavorInfo` of a VM flavor of this kit (capabilities :data:`VM_CAPABILITIES`)."""
    return FlavorInfo(name, version, INTERFACE_VERSION, summary, VM_CAPABILITIES)


@hookimpl
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    """Run the command in the app inside the guest, through the pod's supervisor."""
    from rkt_sdk.vm.client import enter

    return enter(pod.path, options.app, options.command)


@hookimpl
def rkt_stage1_status(pod: Pod) -> dict[str, Any]:
    """The VM's name, accelerator, size and kernel, as recorded by the run."""
    from rkt_sdk.vm.record import status_extras

    return status_extras(pod.path)


def stop_vm(pod: Pod, force: bool, timeout: float, kill: Callable[[Path, str], None]) -> None:
    """Ask the pod's supervisor to stop the apps; when it no longer answers, ``kill(pod path, uuid)``
    ends the VM the flavor's own way."""
    from rkt_sdk.vm.client import SupervisorUnreachable, request_stop

    try:
        request_stop(pod.path, force, timeout)
    except SupervisorUnreachable:
        kill(pod.path, pod.uuid)


# --- mutable pods (rkt app ...; see rkt_sdk.vm.sandbox) ------------------------------------


@hookimpl
def rkt_stage1_app_add(pod: Pod, app: PodApp, options: AppOptions) -> None:
    """Check the app and write its guest script into the sandbox's exchange share."""
    from rkt_sdk.vm import sandboxapps

    sandboxapps.add(pod, app)


@hookimpl
def rkt_stage1_app_start(pod: Pod, app: str) -> None:
    """Have the guest set up and run the app; returns once it runs."""
    from rkt_sdk.vm import sandboxapps

    sandboxapps.start(pod, app)


@hookimpl
def rkt_stage1_app_stop(pod: Pod, app: str, force: bool, timeout: float) -> int | None:
    """Have the guest stop the app; its exit code once it is recorded."""
    from rkt_sdk.vm import sandboxapps

    return sandboxapps.stop(pod, app, force, timeout)


@hookimpl
def rkt_stage1_app_rm(pod: Pod, app: str, options: AppOptions) -> None:
    """Have the guest kill the app and unmount its root; forget its script."""
    from rkt_sdk.vm import sandboxapps

    sandboxapps.rm(pod, app)


@hookimpl
def rkt_stage1_app_reopen_log(pod: Pod, app: str) -> None:
    """Have the supervisor open the app's log file again by its name."""
    from rkt_sdk.vm import sandboxapps

    sandboxapps.reopen_log(pod, app)
