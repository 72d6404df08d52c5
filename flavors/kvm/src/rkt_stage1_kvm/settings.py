"""Per-host settings of the kvm flavor: the VM kit's, plus the libvirt connection."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rkt_sdk.types import ConfigField

DEFAULT_URI = "qemu:///system"
DEFAULT_MACHINE = "microvm"
DEFAULT_RUNTIME_DIR = "/run/rkt/kvm"


def config_fields() -> list[ConfigField]:
    from rkt_sdk.vm.settings import vm_config_fields

    return [*vm_config_fields(DEFAULT_MACHINE),
            ConfigField("libvirt_uri", "str", DEFAULT_URI, "libvirt connection URI"),
            ConfigField("runtime_dir", "path", DEFAULT_RUNTIME_DIR,
                        "directory for the sockets of the domains' character devices (one subdirectory per pod)")]


def libvirt_uri(settings: Mapping[str, Any]) -> str:
    return str(settings.get("libvirt_uri") or DEFAULT_URI)


def runtime_dir(settings: Mapping[str, Any], uuid: str) -> Path:
    return Path(settings.get("runtime_dir") or DEFAULT_RUNTIME_DIR) / uuid
