"""The hook implementations of the ``hello`` flavor.

Every function here implements one hook of :mod:`rkt_sdk.hookspecs`; the module is the
flavor (its entry point is ``hello = "rkt_stage1_hello.plugin"``). The hooks import what
they need lazily so that ``rkt flavors`` and ``rkt_stage1_describe`` stay cheap.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk import hookimpl
from rkt_sdk.types import Capabilities, ConfigField, EnterOptions, FlavorInfo, HostCheck, Pod, RunOptions
from rkt_stage1_hello import __version__

#: The interface version this flavor was written for. A literal, not rkt_sdk.INTERFACE_VERSION:
#: the flavor promises the contract it was tested against, not whatever the SDK installed has.
INTERFACE = 1


@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return FlavorInfo(
        name="hello", version=__version__, interface_version=INTERFACE,
        summary="example third-party flavor: one app in a chroot, supervised by rkt",
        capabilities=Capabilities(multi_app=False, network_modes=frozenset({"host"}), network_attachment="host",
                                  enter=True))


@hookimpl
def rkt_stage1_config_schema() -> list[ConfigField]:
    return [
        ConfigField("greeting", "str", "", "a line printed to stderr before the app starts (empty: nothing)"),
        ConfigField("mount-proc", "bool", True, "bind-mount the host's /proc and /dev into the app's root"),
    ]


@hookimpl
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:
    if os.geteuid() != 0:
        return HostCheck(False, "the hello flavor chroots and mounts, so rkt must run as root")
    return HostCheck(True)


@hookimpl
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:
    from rkt_stage1_hello.supervise import run_app

    return run_app(pod, options)


@hookimpl
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:
    from rkt_stage1_hello.supervise import enter_app

    return enter_app(pod, options)


@hookimpl
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float) -> None:
    from rkt_sdk.poddir import PodDir

    pid = PodDir(pod.path).read_pid()
    if pid is None:
        return
    try:
        # The supervisor forwards SIGTERM to the app and kills it after the stop timeout.
        os.kill(pid, signal.SIGKILL if force else signal.SIGTERM)
    except ProcessLookupError:
        pass
    if force:
        pgid = PodDir(pod.path).read_pgid()
        if pgid is not None and pgid == pid:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@hookimpl
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    from rkt_sdk.linux.mount import mounts_under, unmount_tree

    # Only what this flavor mounted: everything below each app's root. The root itself
    # (an overlay mount) is stage0's. Idempotent: nothing mounted is fine.
    apps = pod_path / "apps"
    if not apps.is_dir():
        return
    for app in apps.iterdir():
        root = os.path.realpath(app / "rootfs")
        for mount_point in mounts_under(root):
            if mount_point != root:
                unmount_tree(mount_point)
