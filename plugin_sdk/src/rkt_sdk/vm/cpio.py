"""A writer for "newc" cpio archives, the format the Linux kernel unpacks as an initramfs."""

from __future__ import annotations

import stat
from typing import BinaryIO

_TRAILER = "TRAILER!!!"


class CpioWriter:
    """Append files, directories and symlinks to a newc archive written to ``out``.

    Entries get fixed timestamps and ownership (root) so the same input always gives the
    same bytes: the archive's hash can be used as a cache key.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._ino = 1
        self._written = 0

    def _entry(self, name: str, mode: int, data: bytes, nlink: int = 1) -> None:
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self._ino += 1
        self._write(header.encode() + name_b)
        self._pad()
        self._write(data)
        self._pad()

    def _write(self, b: bytes) -> None:
        self._out.write(b)
        self._written += len(b)

    def _pad(self) -> None:
        self._write(b"\0" * (-self._written % 4))

    def add_dir(self, name: str, mode: int = 0o755) -> None:
        """A directory (``name`` relative, without leading slash)."""
        self._entry(name, stat.S_IFDIR | mode, b"", 2)

    def add_file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """A regular file with ``data``."""
        self._entry(name, stat.S_IFREG | mode, data)

    def add_symlink(self, name: str, target: str) -> None:
        """A symbolic link to ``target``."""
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def add_chardev(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        """A character device node (``/dev/console`` for the kernel's first messages)."""
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            self._ino, stat.S_IFCHR | mode, 0, 0, 1, 0, 0, 0, 0, major, minor, len(name_b), 0))
        self._ino += 1
        self._write(header.encode() + name_b)
        self._pad()

    def close(self) -> None:
        """Write the trailer entry (the stream itself is left open)."""
        self._entry(_TRAILER, 0, b"")
