"""Reading a file of a multi-layer image from its layers' trees, as the overlay would show it.

Used while storing an image, to resolve its config in the image's own files (a command in
``PATH``, a user's primary group in ``/etc/passwd``). Symlinks are followed inside the image
only, and every lookup uses ``lstat`` on paths whose every directory was checked to be a real
directory of that layer, so nothing outside the layers is ever read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_OPAQUE = "trusted.overlay.opaque"


class LayerFiles:
    """The merged view of ``roots`` (layer root directories, topmost first)."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots

    def _find(self, parts: list[str]) -> tuple[Path, os.stat_result] | None:
        """The topmost layer's entry at ``parts`` (no symlink followed), or None if absent or whited out."""
        for root in self.roots:
            path = root
            hidden = False
            for i, comp in enumerate(parts):
                path = path / comp
                try:
                    st = os.lstat(path)
                except OSError:
                    break
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    return None
                if i == len(parts) - 1:
                    return path, st
                if not stat.S_ISDIR(st.st_mode):
                    hidden = True  # a non-directory here hides the layers below
                    break
                if i == len(parts) - 2 and _is_opaque(path):
                    hidden = True
            if hidden:
                return None
        return None

    def _resolve(self, path: str) -> tuple[Path, os.stat_result] | None:
        todo = [p for p in reversed(path.split("/")) if p and p != "."]
        done: list[str] = []
        hops = 0
        while todo:
            comp = todo.pop()
            if comp == "..":
                if done:
                    done.pop()
                continue
            found = self._find([*done, comp])
            if found is None:
                return None
            p, st = found
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > 40:
                    return None
                target = os.readlink(p)
                if target.startswith("/"):
                    done = []
                todo.extend(t for t in reversed(target.split("/")) if t and t != ".")
                continue
            done.append(comp)
        return self._find(done) if done else None

    def exists(self, path: str) -> bool:
        """Whether ``path`` names a regular file of the image (symlinks followed inside it)."""
        found = self._resolve(path)
        return found is not None and stat.S_ISREG(found[1].st_mode)

    def read(self, path: str, limit: int = 1 << 20) -> bytes | None:
        """The content of the regular file ``path`` (at most ``limit`` bytes), or None."""
        found = self._resolve(path)
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        fd = os.open(found[0], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            return os.read(fd, limit)
        finally:
            os.close(fd)


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, _OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
