"""Named errors of fetching images from a source.

Messages are one line naming the image as the user gave it; the CLI prints them as
``<command>: <message>`` and exits 254.
"""

from __future__ import annotations

from rkt_sdk.errors import RktError


class FetchError(RktError):
    """An image could not be brought from its source (unreachable, refused, malformed)."""


class BadReference(FetchError):
    """A source reference (``docker://...``, ``oci:...``) does not parse."""


class ManifestUnknown(FetchError):
    """The source has no image by that tag or digest (or no such repository)."""


class DigestMismatch(FetchError):
    """A blob's bytes do not hash to the digest that names them."""


class PlatformMismatch(FetchError):
    """A multi-platform index offers no image for this host's OS and architecture."""


class AuthError(FetchError):
    """The source refused the credentials given, or asked for credentials none were configured for."""
