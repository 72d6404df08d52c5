"""A forward-only reader over an image's tar stream that hashes every byte once.

It sits between the (de)compressor and the tar parser: the parser reads headers through
:meth:`HashingReader.read` and skips padding with :meth:`HashingReader.seek`; file data is
pulled in large chunks by :meth:`HashingReader.read` too. Every byte that passes is fed to
sha512 exactly once, so the id is known when the stream ends, after a single read of the input.
"""

from __future__ import annotations

import hashlib

from rkt.store.compression import Readable, describe_error, is_decompression_error

#: Size of reads from the source.
CHUNK = 1 << 20


class StreamError(Exception):
    """The stream could not be read (truncated, corrupt) or is over the size limit."""


class SizeLimitExceeded(StreamError):
    """More uncompressed bytes than the limit allows."""


class HashingReader:
    """Reads ``source`` front to back, hashing (sha512 unless told) and counting against ``limit``."""

    def __init__(self, source: Readable, limit: int, algorithm: str = "sha512") -> None:
        self._src = source
        self._limit = limit
        self._hash = hashlib.new(algorithm)
        self._buf = b""
        self._off = 0  # read position inside _buf
        self._pos = 0  # bytes handed out so far
        self.total = 0  # bytes pulled from the source (all hashed)
        self._eof = False

    # -- the source side ---------------------------------------------------------------
    def _pull(self, n: int) -> bytes:
        if self._eof:
            return b""
        try:
            data = self._src.read(n)
        except StreamError:
            raise
        except Exception as e:
            if is_decompression_error(e):
                raise StreamError(describe_error(e)) from None
            raise
        if not data:
            self._eof = True
            return b""
        self.total += len(data)
        if self.total > self._limit:
            raise SizeLimitExceeded(f"uncompressed size exceeds the limit of {self._limit} bytes")
        self._hash.update(data)
        return data

    # -- the file-like side used by tarfile ----------------------------------------------
    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1, /) -> bytes:
        """Exactly ``n`` bytes, fewer only at the end of the stream (``n < 0``: all the rest)."""
        if n is None or n < 0:
            n = 1 << 62
        first = self.read_some(n)
        if len(first) == n or not first:
            return first
        parts = [first]
        got = len(first)
        while got < n and (more := self.read_some(n - got)):
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def read_some(self, n: int) -> bytes:
        """Between 1 and ``n`` bytes, or ``b""`` at the end of the stream; no copy of large reads."""
        avail = len(self._buf) - self._off
        if avail:
            return self._take(min(n, avail))
        if n >= CHUNK:
            data = self._pull(min(n, 8 * CHUNK))
            self._pos += len(data)
            return data
        self._buf, self._off = self._pull(CHUNK), 0
        return self._take(min(n, len(self._buf)))

    def _take(self, n: int) -> bytes:
        out = self._buf[self._off:self._off + n] if (self._off or n != len(self._buf)) else self._buf
        self._off += len(out)
        self._pos += len(out)
        if self._off >= len(self._buf):
            self._buf, self._off = b"", 0
        return out

    def seek(self, pos: int, whence: int = 0) -> int:
        """Move forward to ``pos`` (skipped bytes are hashed too); moving back is an error."""
        if whence == 1:
            pos += self._pos
        if pos < self._pos:
            raise StreamError("internal: backward seek on a stream")
        while self._pos < pos:
            if not self.read_some(min(pos - self._pos, CHUNK)):
                break
        return self._pos

    def drain(self, most: int | None = None) -> int:
        """Read to the end of the stream (so the hash covers it all); returns bytes skipped.

        :raises SizeLimitExceeded: more than ``most`` bytes were left (None: only the size limit).
        """
        skipped = len(self._buf) - self._off
        self._buf, self._off = b"", 0
        while chunk := self._pull(CHUNK):
            skipped += len(chunk)
            if most is not None and skipped > most:
                raise SizeLimitExceeded(f"more than {most} bytes follow the end of the archive")
        return skipped

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
