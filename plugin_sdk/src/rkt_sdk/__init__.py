"""rkt_sdk: the contract between rkt's stage0 and its stage1 flavors.

A flavor author imports from here only::

    from rkt_sdk import hookimpl, FlavorInfo, Capabilities, HostCheck

Nothing heavy is imported when this package is imported: the hook markers (pluggy's
protocol, without importing pluggy) and the data types are loaded on first use, so
``rkt list`` pays nothing for them. The data types are frozen records
(:mod:`rkt_sdk.record`); ``rkt_sdk.record.replace`` makes a changed copy of one.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers see: the real names, so ``@hookimpl`` keeps a hook's type
    from typing import Any

    from rkt_sdk.errors import FlavorError as FlavorError
    from rkt_sdk.errors import RktError as RktError
    from rkt_sdk.markers import hookimpl as hookimpl
    from rkt_sdk.markers import hookspec as hookspec
    from rkt_sdk.poddir import PodDir as PodDir
    from rkt_sdk.types import AppOptions as AppOptions
    from rkt_sdk.types import AttachOptions as AttachOptions
    from rkt_sdk.types import Capabilities as Capabilities
    from rkt_sdk.types import ConfigField as ConfigField
    from rkt_sdk.types import EnterOptions as EnterOptions
    from rkt_sdk.types import FlavorInfo as FlavorInfo
    from rkt_sdk.types import HostCheck as HostCheck
    from rkt_sdk.types import NetworkAttachment as NetworkAttachment
    from rkt_sdk.types import Pod as Pod
    from rkt_sdk.types import PodApp as PodApp
    from rkt_sdk.types import RunOptions as RunOptions

#: Version of the stage1 interface described by :mod:`rkt_sdk.hookspecs`.
#: Bumped when a hook is added or gains an argument; a flavor declares the version it
#: was written for in :class:`FlavorInfo` and stage0 refuses flavors it cannot drive.
#: Version 2: ``stop`` and ``status`` get the flavor's ``settings``; one recorded stop timeout;
#: ``status`` may report ``"running"``. Flavors of version 1 load and run unchanged.
#: Version 3: the ``rkt_stage1_app_*`` hooks of mutable pods (``Capabilities.mutable``); flavors
#: of versions 1 and 2 load and run immutable pods unchanged.
INTERFACE_VERSION = 3

#: Oldest interface version stage0 still drives.
MIN_INTERFACE_VERSION = 1

#: Entry-point group under which flavors register; the entry point's name is the flavor name.
STAGE1_GROUP = "rkt.stage1"

#: Entry-point group for cross-cutting plugins (lifecycle listeners, network types, fetchers).
PLUGIN_GROUP = "rkt.plugins"

_LAZY = {
    "hookimpl": "rkt_sdk.markers",
    "hookspec": "rkt_sdk.markers",
    "RktError": "rkt_sdk.errors",
    "FlavorError": "rkt_sdk.errors",
    "FlavorInfo": "rkt_sdk.types",
    "Capabilities": "rkt_sdk.types",
    "HostCheck": "rkt_sdk.types",
    "ConfigField": "rkt_sdk.types",
    "RunOptions": "rkt_sdk.types",
    "EnterOptions": "rkt_sdk.types",
    "AppOptions": "rkt_sdk.types",
    "AttachOptions": "rkt_sdk.types",
    "Pod": "rkt_sdk.types",
    "PodApp": "rkt_sdk.types",
    "NetworkAttachment": "rkt_sdk.types",
    "PodDir": "rkt_sdk.poddir",
}

__all__ = ["INTERFACE_VERSION", "MIN_INTERFACE_VERSION", "STAGE1_GROUP", "PLUGIN_GROUP", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rkt_sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
