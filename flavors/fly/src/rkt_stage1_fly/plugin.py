"""Hook implementations of the fly flavor.

fly isolates by ``chroot`` only: host namespaces, host network, one app per pod, and the
app *is* the pod process (the stage0 process execs it, keeping the pod lock open).
"""

from __future__ import annotations

import os

from rkt_sdk import INTERFACE_VERSION, hookimpl
from rkt_sdk.errors import FlavorError
from rkt_sdk.types import Capabilities, ConfigField, EnterOptions, FlavorInfo, HostCheck, Pod, RunOptions
from rkt_stage1_fly import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return FlavorInfo(
        name="fly", version=__version__, interface_version=INTERFACE_VERSION,
        summary="chroot only: host namespaces and network, one app, the app is the pod process",
        capabilities=Capabilities(multi_app=False, isolators=frozenset(), network_modes=frozenset({"host"}),
                                  network_attachment="host", mutable=False, enter=True))


@hookimpl
def rkt_stage1_config_schema() -> list[ConfigField]:
    return [ConfigField("tmpfs-size", "str", "", "size limit of the tmpfs on /tmp (empty: the kernel's default)")]


@hookimpl
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:
    if os.geteuid() != 0:
        return HostCheck(False, "the fly flavor needs root (chroot and mounts); run rkt as root")
    return HostCheck(True)


@hookimpl
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:
    from rkt_stage1_fly.launch import exec_app, prepare_app

    if len(pod.apps) != 1:
        raise FlavorError(f"the fly flavor runs exactly one app per pod, got {len(pod.apps)}")
    exec_app(pod, prepare_app(pod, options))
    raise AssertionError("unreachable")  # exec_app does not return


@hookimpl
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    from rkt_stage1_fly.launch import enter_app

    enter_app(pod, options)
    raise AssertionError("unreachable")


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_stage1_fly.stop import stop

    stop(pod, force, timeout)


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    import os

    from rkt_sdk.linux.mount import MNT_DETACH, MountError, umount, unmount_tree

    apps = pod_path / "apps"
    try:
        names = os.listdir(apps)
    except OSError:
        return
    for name in names:  # an app's root is one mount on the host: detaching it takes what is below
        root = apps / name / "rootfs"
        if os.path.ismount(root):
            try:
                umount(root, MNT_DETACH)
            except MountError:
                unmount_tree(apps)
                return
