"""Files of a local image source: a directory, or an uncompressed tar read in place.

:class:`DirFiles` and :class:`TarFiles` give the local transports one way to read a named file
whole (small documents) or as a stream (blobs). A tar is indexed once (headers only, seeking
over data) and each stream opens the archive anew, so layers can be read in parallel.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import BinaryIO, Protocol

from rkt.images.errors import FetchError, ManifestUnknown

#: Cap on a document read whole.
MAX_SMALL = 4 << 20


class Files(Protocol):
    def read(self, name: str) -> bytes: ...
    def open(self, name: str) -> BinaryIO: ...
    def close(self) -> None: ...


class DirFiles:
    """Files under ``root``; names are relative, ``/``-separated, without ``..``."""

    def __init__(self, root: Path, display: str) -> None:
        self.root = root
        self.display = display

    def _path(self, name: str) -> Path:
        if name.startswith("/") or ".." in name.split("/"):
            raise FetchError(f'image "{self.display}": bad file name {name!r} in the layout')
        return self.root / name

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            data = f.read(MAX_SMALL + 1)
        if len(data) > MAX_SMALL:
            raise FetchError(f'image "{self.display}": {name} is over {MAX_SMALL} bytes')
        return data

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")
        except FileNotFoundError:
            raise ManifestUnknown(f'image "{self.display}": {name} is missing from the layout') from None
        except OSError as e:
            raise FetchError(f'image "{self.display}": cannot read {name}: {e.strerror}') from None

    def close(self) -> None:
        pass


class _Window(io.RawIOBase):
    """``size`` bytes of ``f`` from its current position."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self._left)
        if n <= 0:
            return 0
        data = self._f.read(n)
        b[:len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._f.close()
        super().close()


class TarFiles:
    """Members of the uncompressed tar at ``path`` (regular files only; names without ``./``)."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        self.members: dict[str, tuple[int, int]] = {}
        try:
            with open(path, "rb") as f:
                head = f.read(6)
                if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")):
                    raise FetchError(f'image "{display}": the archive is compressed; decompress it first')
                f.seek(0)
                with tarfile.open(fileobj=f, mode="r:") as tf:
                    for ti in tf:
                        if ti.isreg():
                            self.members[os.path.normpath(ti.name).lstrip("/")] = (ti.offset_data, ti.size)
        except FileNotFoundError:
            raise FetchError(f'image "{display}": no such file') from None
        except IsADirectoryError:
            raise FetchError(f'image "{display}": is a directory, not an archive') from None
        except tarfile.TarError as e:
            raise FetchError(f'image "{display}": not a readable tar archive ({e})') from None
        except OSError as e:
            raise FetchError(f'image "{display}": cannot read it: {e.strerror}') from None

    def size(self, name: str) -> int:
        return self._member(name)[1]

    def _member(self, name: str) -> tuple[int, int]:
        found = self.members.get(os.path.normpath(name).lstrip("/"))
        if found is None:
            raise ManifestUnknown(f'image "{self.display}": {name} is missing from the archive')
        return found

    def read(self, name: str) -> bytes:
        _, size = self._member(name)
        if size > MAX_SMALL:
            raise FetchError(f'image "{self.display}": {name} is over {MAX_SMALL} bytes')
        with self.open(name) as f:
            return f.read()

    def open(self, name: str) -> BinaryIO:
        offset, size = self._member(name)
        f = open(self.path, "rb")  # noqa: SIM115 (closed with the window)
        f.seek(offset)
        return io.BufferedReader(_Window(f, size), buffer_size=1 << 20)  # type: ignore[return-value]

    def close(self) -> None:
        pass
