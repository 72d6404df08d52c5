"""Named errors of the image store.

Messages are one line naming the input the user gave (an image path, name or id) and
what is wrong with it; the CLI prints them as ``<command>: <message>`` and exits 254.
"""

from __future__ import annotations

from rkt_sdk.errors import RktError


class StoreError(RktError):
    """The image store could not do what was asked."""


class ImageNotFound(StoreError):
    """No image in the local store matches the reference (id, name or name:version)."""


class AmbiguousImageId(ImageNotFound):
    """An abbreviated image id matches several images."""


class ImageError(StoreError):
    """An image archive is malformed or hostile (bad manifest, unsafe entry, truncated stream...)."""
