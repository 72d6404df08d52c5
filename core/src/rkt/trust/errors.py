"""Named errors of image trust: keys, the keystore and signature checks.

Messages are one line; a signature failure names the image and the reason. The CLI prints
them as ``<command>: <message>`` and exits 254.
"""

from __future__ import annotations

from rkt_sdk.errors import RktError


class TrustError(RktError):
    """A key could not be read, trusted or removed, or the keystore is unusable."""


class SignatureError(TrustError):
    """An image's signature is missing, altered, or made by a key not trusted for the image's name."""
