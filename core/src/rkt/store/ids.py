"""Image ids: ``sha512-<128 hex>`` of the uncompressed image tar.

rkt prints ids abbreviated to ``sha512-`` and 32 hex digits; any unique prefix of at least
two hex digits is accepted where an id is expected.
"""

from __future__ import annotations

PREFIX = "sha512-"
#: Hex digits of a full id.
FULL_HEX = 128
#: Hex digits rkt prints by default.
SHORT_HEX = 32
#: Fewest hex digits accepted in an abbreviated id.
MIN_HEX = 2
#: Prefix of a rendered tree's id (rkt names a tree after the image and its dependencies).
TREE_PREFIX = "deps-"



def looks_like_id(ref: str) -> bool:
    """Whether ``ref`` is meant as an image id (full or abbreviated)."""
    return ref.lower().startswith(PREFIX)


def full_id(hexdigest: str) -> str:
    """The id of an image whose tar has this sha512 hex digest."""
    return PREFIX + hexdigest


def short_id(image_id: str) -> str:
    """The id as rkt prints it by default: ``sha512-`` and 32 hex digits."""
    return image_id[: len(PREFIX) + SHORT_HEX]


def is_full_id(image_id: str) -> bool:
    """Whether ``image_id`` is a complete, well-formed id."""
    hexpart = image_id[len(PREFIX):]
    return image_id.startswith(PREFIX) and len(hexpart) == FULL_HEX and _is_hex(hexpart)


def id_prefix(ref: str) -> str:
    """Normalise an abbreviated id (lower case); ``ValueError`` saying why if it is not one."""
    ref = ref.lower()
    hexpart = ref[len(PREFIX):]
    if not ref.startswith(PREFIX) or not _is_hex(hexpart) or len(hexpart) > FULL_HEX:
        raise ValueError(f'bad image id "{ref}": want "{PREFIX}" followed by up to {FULL_HEX} hex digits')
    if len(hexpart) < MIN_HEX:
        raise ValueError(f'image id "{ref}" is too short: give at least {MIN_HEX} hex digits')
    return ref


def tree_id(image_id: str) -> str:
    """The id of the rendered tree of an image (``deps-sha512-...``)."""
    return TREE_PREFIX + image_id


def image_of_tree(tree: str) -> str:
    """The image id a tree id was made from."""
    return tree.removeprefix(TREE_PREFIX)


def _is_hex(text: str) -> bool:
    """Only lower-case hex digits (or nothing)."""
    return all(c in "0123456789abcdef" for c in text)
