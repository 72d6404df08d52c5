"""The error every networking failure of stage0 raises."""

from __future__ import annotations

from rkt_sdk.errors import RktError


class NetworkError(RktError):
    """A pod network could not be parsed, found, set up or torn down; the message names it."""
