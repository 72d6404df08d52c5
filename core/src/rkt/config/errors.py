"""The error every malformed config file raises."""

from __future__ import annotations

from rkt_sdk.errors import RktError


class ConfigError(RktError):
    """A config file is malformed; the message names the file and the field."""
