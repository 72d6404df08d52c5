"""The environment an app's process starts with (kept for flavors written against it).

The rule lives in :mod:`rkt_sdk.resolved`, with the rest of the resolved app; new flavors
use :func:`rkt_sdk.resolved.resolve_app`.
"""

from __future__ import annotations

from rkt_sdk.resolved import DEFAULT_PATH, environment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt_sdk.appc import RuntimeApp
    from rkt_sdk.linux.creds import Credentials

__all__ = ["DEFAULT_PATH", "app_environ"]


def app_environ(app: RuntimeApp, creds: Credentials | None = None) -> dict[str, str]:
    """The final environment of ``app`` run with ``creds``, sharing the caller's terminal."""
    return environment(app.name, app.app, creds, terminal=True)
