"""rkt's stage1 images, named as rkt's users wrote them, mapped onto the flavors.

rkt chose its stage1 by image: ``--stage1-name=coreos.com/rkt/stage1-fly:1.30.0``,
``--stage1-path=/usr/lib/rkt/stage1-images/stage1-kvm.aci``, ``--stage1-from-dir=stage1-fly.aci``,
``--stage1-url=https://.../stage1-coreos.aci``, and the ``stage1`` config kind's ``name`` and
``location``. Here a stage1 is a flavor (a Python distribution), so those names map onto the
built-in flavors of the same kind; the version in an image name is rkt's, not a flavor's, and is
dropped. A name this module does not know is returned as it is, for the loader's error.
"""

from __future__ import annotations

#: rkt's stage1 image names (without version) -> flavor
IMAGE_NAMES = {
    "coreos.com/rkt/stage1-fly": "fly",
    "coreos.com/rkt/stage1-coreos": "coreos",
    "coreos.com/rkt/stage1-kvm": "kvm",
}
#: rkt's stage1 image file names -> flavor
FILE_NAMES = {"stage1-fly.aci": "fly", "stage1-coreos.aci": "coreos", "stage1-kvm.aci": "kvm"}


def is_image_name(name: str) -> bool:
    """Whether ``name`` is one of rkt's stage1 image names (with or without ``:VERSION``)."""
    return name.partition(":")[0] in IMAGE_NAMES


def flavor_of_name(name: str) -> str:
    """The flavor for ``--stage1-name`` or the config's ``name``: rkt's image names mapped, others as given."""
    return IMAGE_NAMES.get(name.partition(":")[0], name)


def flavor_of_location(location: str) -> str | None:
    """The flavor for a stage1 image path, file name or URL (``--stage1-path``, ``-url``, ``-from-dir``,
    the config's ``location``); None when the file is not one of rkt's stage1 images."""
    base = location.rstrip("/").rpartition("/")[2].partition("?")[0]
    return FILE_NAMES.get(base)
