"""What an image reference given on the command line means.

As rkt guesses it: ``sha512-...`` is an id (full or abbreviated); a URL with a scheme is
fetched from there (only ``file://`` here); an absolute path, an existing regular file or
a name ending in ``.aci`` is a file; anything else is an image name, optionally with
``:version``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rkt.store.ids import looks_like_id
from rkt_sdk.record import Record


class ImageRef(Record):
    """A parsed reference: ``kind`` is ``id``, ``file``, ``name`` or ``remote``."""

    text: str
    kind: str
    path: Path | None = None
    name: str = ""
    version: str | None = None


def parse_ref(text: str) -> ImageRef:
    """Classify ``text`` (never touches the store; stats the file system for relative paths)."""
    if looks_like_id(text):
        return ImageRef(text, "id")
    scheme, sep, _ = text.partition("://")
    if sep and scheme.isalpha():
        if scheme == "file":
            u = urlsplit(text)
            return ImageRef(text, "file", Path(unquote(u.path)))
        return ImageRef(text, "remote")
    if os.path.isabs(text):
        return ImageRef(text, "file", Path(text))
    try:
        if os.stat(text).st_mode & 0o170000 == 0o100000:
            return ImageRef(text, "file", Path(text))
    except OSError:
        pass
    if text.endswith(".aci"):
        return ImageRef(text, "file", Path(text))
    name, version = split_name(text)
    return ImageRef(text, "name", name=name, version=version)


def split_name(text: str) -> tuple[str, str | None]:
    """``name:version`` -> (name, version); a colon followed by a ``/`` belongs to the name (a port)."""
    head, sep, tail = text.rpartition(":")
    if sep and head and tail and "/" not in tail:
        return head, tail
    return text, None
