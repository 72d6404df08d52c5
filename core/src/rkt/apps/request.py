"""What ``rkt run`` / ``rkt prepare`` were asked to do, as frozen data."""

from __future__ import annotations

from rkt_sdk.appc import KV, Isolator, Mount, PodPort, Volume
from rkt_sdk.record import Record
from rkt_sdk.types import DNSConfig


class AppRequest(Record):
    """One image on the command line and the flags that follow it."""

    image: str
    name: str = ""
    exec: str = ""
    args: tuple[str, ...] | None = None
    user: str = ""
    group: str = ""
    supplementary_gids: tuple[int, ...] = ()
    working_dir: str = ""
    environment: tuple[KV, ...] = ()
    mounts: tuple[Mount, ...] = ()
    isolators: tuple[Isolator, ...] = ()
    readonly_rootfs: bool = False
    annotations: tuple[KV, ...] = ()
    signature: str = ""


class PodRequest(Record):
    """The pod-level flags of ``rkt run`` / ``rkt prepare`` and the apps asked for."""

    apps: tuple[AppRequest, ...]
    pod_manifest: str = ""
    volumes: tuple[Volume, ...] = ()
    ports: tuple[PodPort, ...] = ()
    set_env: tuple[KV, ...] = ()
    set_env_file: tuple[KV, ...] = ()
    inherit_env: bool = False
    stage1_name: str = ""
    net: tuple[str, ...] = ()
    dns: DNSConfig = DNSConfig()
    hosts_entries: tuple[tuple[str, str], ...] = ()
    hostname: str = ""
    interactive: bool = False
    uuid_file_save: str = ""
    no_overlay: bool = False
    pull_policy: str = "new"
    annotations: tuple[KV, ...] = ()
    quiet: bool = False
