"""The pluggy markers of the ``rkt`` project name.

``hookimpl`` decorates a flavor's or plugin's implementation of a hook in
:mod:`rkt_sdk.hookspecs`; ``hookspec`` is used by that module only.
"""

from __future__ import annotations

import pluggy

PROJECT = "rkt"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
