"""Compression of image archives, told by magic bytes (never by file name).

An ACI is a tar, plain or compressed with gzip, bzip2, xz or zstd. zstd comes from the
``zstandard`` package, imported only when a zstd image is read.
"""

from __future__ import annotations

from typing import Any, Protocol

#: Magic bytes -> compression name, as stored in the index.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
#: Bytes needed to tell the compression.
HEAD = 6


class Readable(Protocol):
    """A binary stream read from front to back."""

    def read(self, n: int = -1, /) -> bytes: ...


def detect(head: bytes) -> str:
    """The compression of a stream starting with ``head``: ``tar`` when none is recognised."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return "tar"


def decompressing(raw: Readable, kind: str) -> Readable:
    """A stream of the decompressed bytes of ``raw`` (``raw`` itself for ``tar``).

    Truncated or corrupt input makes ``read`` raise ``EOFError``, ``OSError``, ``ValueError``
    or a ``zstandard.ZstdError``; :func:`describe_error` turns those into one line.
    """
    f: Any
    src: Any = raw
    if kind == "tar":
        return raw
    if kind == "gzip":
        import gzip

        f = gzip.GzipFile(fileobj=src, mode="rb")
    elif kind == "bzip2":
        import bz2

        f = bz2.BZ2File(src, mode="rb")
    elif kind == "xz":
        import lzma

        f = lzma.LZMAFile(src, mode="rb")  # noqa: SIM115 (the caller closes the source)
    elif kind == "zstd":
        import zstandard

        # A zstd stream cut at a frame boundary ends quietly here; the tar layer still
        # notices a missing end-of-archive marker.
        f = zstandard.ZstdDecompressor().stream_reader(src, read_size=1 << 20, read_across_frames=True)
    else:
        raise ValueError(f"unknown compression {kind!r}")
    return f  # type: ignore[no-any-return]


def is_decompression_error(e: BaseException) -> bool:
    """Whether ``e`` comes from a truncated or corrupt compressed stream."""
    if isinstance(e, (EOFError, ValueError)):
        return True
    if isinstance(e, OSError) and e.errno is None:
        return True  # gzip.BadGzipFile, lzma.LZMAError and bz2's "Invalid data stream" carry no errno
    mod = type(e).__module__ or ""
    return mod.startswith(("zstandard", "zstd"))


def describe_error(e: BaseException) -> str:
    """One line for a decompression error."""
    if isinstance(e, EOFError):
        return "compressed stream is truncated"
    return f"corrupt compressed stream ({e})"
