"""Safe extraction of an image's tar stream into a fresh directory.

The archive is untrusted. Every entry name is cleaned and checked (no absolute path, no
``..``), and every directory on the way to it must be one this extraction made itself:
an entry under a symlink, a file or a missing hardlink target is refused, and so is an
entry that changes the type of an earlier one. Files are created relative to directory
descriptors opened with ``O_NOFOLLOW``, with ``O_EXCL``, so nothing outside the
destination can be reached even if a check were missed. Device nodes are refused;
sizes and entry counts are capped (:class:`Limits`).

Only ``manifest`` and ``rootfs/...`` are written; other top-level entries are hashed and
skipped. Modes, owners and modification times are kept (the store runs as root).
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rkt.store.stream import CHUNK, HashingReader, SizeLimitExceeded, StreamError

#: Default cap on the uncompressed size of an image (``RKT_MAX_IMAGE_SIZE`` overrides it).
DEFAULT_MAX_SIZE = 16 << 30
#: Default cap on the number of entries of an image (``RKT_MAX_IMAGE_ENTRIES`` overrides it).
DEFAULT_MAX_ENTRIES = 1_000_000
#: Cap on the manifest and on the metadata headers (pax, GNU long names) of one entry.
MAX_MANIFEST = 4 << 20
#: Bytes read after the end-of-archive marker (tar pads to its record size) before the input is refused.
MAX_TRAILING = 8 << 20
_MAX_META = 1 << 20

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_KIND_NAMES = {"d": "directory", "f": "regular file", "l": "symlink", "p": "fifo", "w": "whiteout"}
# tarfile's header errors are not in its public API (nor in its type stubs).
_EOFHeader: type[Exception] = getattr(tarfile, "EOFHeaderError")  # noqa: B009
_EmptyHeader: type[Exception] = getattr(tarfile, "EmptyHeaderError")  # noqa: B009
_TruncatedHeader: type[Exception] = getattr(tarfile, "TruncatedHeaderError")  # noqa: B009
_InvalidHeader: type[Exception] = getattr(tarfile, "InvalidHeaderError")  # noqa: B009
_META_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
               tarfile.SOLARIS_XHDTYPE)


class EntryError(Exception):
    """An entry could not be extracted; the message names it (the caller adds the image)."""


class UnsafeEntry(EntryError):
    """An entry of the archive is refused as unsafe or malformed."""


@dataclass(frozen=True)
class Limits:
    """Caps that stop decompression bombs and archives with absurd numbers of entries."""

    max_size: int = DEFAULT_MAX_SIZE
    max_entries: int = DEFAULT_MAX_ENTRIES

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, overridden by ``RKT_MAX_IMAGE_SIZE`` (bytes, K/M/G/T suffix allowed), ``RKT_MAX_IMAGE_ENTRIES``."""
        size = os.environ.get("RKT_MAX_IMAGE_SIZE")
        entries = os.environ.get("RKT_MAX_IMAGE_ENTRIES")
        return cls(parse_size(size) if size else DEFAULT_MAX_SIZE,
                   int(entries) if entries else DEFAULT_MAX_ENTRIES)


def parse_size(text: str) -> int:
    """``"16G"``, ``"512M"``, ``"1048576"`` -> bytes (binary units)."""
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    mult = 1
    if text and text[-1] in "KMGT":
        mult = 1 << (10 * ("KMGT".index(text[-1]) + 1))
        text = text[:-1]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"bad size {text!r}") from None
    return int(value * mult)


def show(name: str) -> str:
    """An entry name made printable (undecodable bytes as ``\\xNN``)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Extracted:
    """What a complete pass over an archive found."""

    digest: str  #: sha512 hex digest of the uncompressed tar stream
    size: int  #: bytes of the uncompressed tar stream
    manifest: bytes | None  #: the ``manifest`` entry, if any
    entries: int


class _StrictInfo(tarfile.TarInfo):
    """A TarInfo that reports a cut or corrupt header instead of ending the archive quietly."""

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> _StrictInfo:
        try:
            return super().fromtarfile(tarfile_)  # type: ignore[return-value]
        except _EOFHeader:
            raise
        except _EmptyHeader:
            if tarfile_.offset == 0:
                raise StreamError("archive is empty") from None
            raise StreamError("archive is truncated (no end-of-archive marker)") from None
        except _TruncatedHeader:
            raise StreamError("archive is truncated (in a header)") from None
        except _InvalidHeader as e:
            raise StreamError(f"corrupt tar header at offset {tarfile_.offset} ({e})") from None

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        # Metadata headers are read into memory by tarfile: cap them before it does.
        if self.type in _META_TYPES and self.size > _MAX_META:
            raise UnsafeEntry(f'entry "{show(self.name)}" has a {self.size}-byte metadata header')
        return super()._proc_member(tarfile_)  # type: ignore[misc,no-any-return]


def clean_parts(name: str) -> tuple[str, ...]:
    """The components of an entry name; :class:`UnsafeEntry` for absolute or escaping names."""
    if "\0" in name:
        raise UnsafeEntry(f'entry "{show(name)}" has a NUL byte in its name')
    if name.startswith("/"):
        raise UnsafeEntry(f'entry "{show(name)}" has an absolute path')
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafeEntry(f'entry "{show(name)}" escapes the root')
    return parts


def _kind(ti: tarfile.TarInfo) -> str:
    if ti.sparse is not None or ti.type == tarfile.GNUTYPE_SPARSE:
        raise UnsafeEntry(f'entry "{show(ti.name)}" is a sparse file, which is not supported')
    if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
        return "f"
    if ti.type == tarfile.LNKTYPE:
        return "h"
    if ti.type == tarfile.DIRTYPE:
        return "d"
    if ti.type == tarfile.SYMTYPE:
        return "l"
    if ti.type == tarfile.FIFOTYPE:
        return "p"
    if ti.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        what = "character" if ti.type == tarfile.CHRTYPE else "block"
        raise UnsafeEntry(f'entry "{show(ti.name)}" is a {what} device; images may not contain device nodes')
    raise UnsafeEntry(f'entry "{show(ti.name)}" has unsupported type {ti.type!r}')


class TreeWriter:
    """Creates entries under ``root`` (an empty directory) without following any symlink."""

    def __init__(self, root: Path) -> None:
        self._fds: dict[str, int] = {"": os.open(root, _DIR_FLAGS)}
        self._kinds: dict[str, str] = {"": "d"}
        self._dir_times: list[tuple[str, int]] = []

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    # -- directories ----------------------------------------------------------------------
    def _dirfd(self, path: str) -> int:
        fd = self._fds.get(path)
        if fd is not None:
            return fd
        parent, _, leaf = path.rpartition("/")
        pfd = self._dirfd(parent)
        if len(self._fds) > 256:
            self._trim_fds(keep=(parent,))
        fd = os.open(leaf, _DIR_FLAGS, dir_fd=pfd)
        self._fds[path] = fd
        return fd

    def _trim_fds(self, keep: tuple[str, ...]) -> None:
        for p in [p for p in self._fds if p and p not in keep]:
            os.close(self._fds.pop(p))

    def _parent(self, entry: str, parts: tuple[str, ...]) -> int:
        """The fd of the directory holding ``parts``; makes missing directories, refuses non-directories."""
        path = ""
        for comp in parts[:-1]:
            sub = f"{path}/{comp}" if path else comp
            kind = self._kinds.get(sub)
            if kind is None:
                os.mkdir(comp, 0o755, dir_fd=self._dirfd(path))
                self._kinds[sub] = "d"
            elif kind == "l":
                raise UnsafeEntry(f'entry "{show(entry)}" is written through symlink "{show(sub)}"')
            elif kind != "d":
                raise UnsafeEntry(f'entry "{show(entry)}" is under "{show(sub)}", which is a {_KIND_NAMES[kind]}')
            path = sub
        return self._dirfd(path)

    # -- entries ---------------------------------------------------------------------------
    def add(self, ti: tarfile.TarInfo, parts: tuple[str, ...], data: HashingReader) -> None:
        """Create one entry; regular file data is read from ``data``."""
        kind = _kind(ti)
        path = "/".join(parts)
        pfd = self._parent(ti.name, parts)
        leaf = parts[-1]
        same = "f" if kind == "h" else kind
        old = self._kinds.get(path)
        if old is not None:
            if old != same:
                raise UnsafeEntry(f'entry "{show(ti.name)}" replaces a {_KIND_NAMES[old]} '
                                  f'with a {_KIND_NAMES[same]}')
            if kind != "d":
                if path in self._fds:
                    os.close(self._fds.pop(path))
                os.unlink(leaf, dir_fd=pfd)
        if kind == "f":
            self._file(ti, leaf, pfd, data)
        elif kind == "d":
            if old is None:
                os.mkdir(leaf, 0o700, dir_fd=pfd)
            fd = self._dirfd(path)
            os.fchown(fd, ti.uid, ti.gid)
            os.fchmod(fd, ti.mode & 0o7777)
            self._dir_times.append((path, int(ti.mtime * 1e9)))
        elif kind == "l":
            os.symlink(ti.linkname, leaf, dir_fd=pfd)
            self._attrs(ti, leaf, pfd, symlink=True)
        elif kind == "p":
            os.mkfifo(leaf, 0o600, dir_fd=pfd)
            self._attrs(ti, leaf, pfd, symlink=False)
        else:
            self._hardlink(ti, leaf, pfd)
        self._kinds[path] = same

    def _file(self, ti: tarfile.TarInfo, leaf: str, pfd: int, data: HashingReader) -> None:
        fd = os.open(leaf, _FILE_FLAGS, 0o600, dir_fd=pfd)
        try:
            remaining = ti.size
            while remaining:
                chunk = data.read_some(min(remaining, 4 * CHUNK))
                if not chunk:
                    raise StreamError(f'archive is truncated (in entry "{show(ti.name)}")')
                remaining -= len(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            os.fchown(fd, ti.uid, ti.gid)
            os.fchmod(fd, ti.mode & 0o7777)
            mtime = int(ti.mtime * 1e9)
            os.utime(fd, ns=(mtime, mtime))
        finally:
            os.close(fd)

    def _attrs(self, ti: tarfile.TarInfo, leaf: str, pfd: int, *, symlink: bool) -> None:
        os.chown(leaf, ti.uid, ti.gid, dir_fd=pfd, follow_symlinks=False)
        if not symlink:
            os.chmod(leaf, ti.mode & 0o7777, dir_fd=pfd)
        mtime = int(ti.mtime * 1e9)
        os.utime(leaf, ns=(mtime, mtime), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, ti: tarfile.TarInfo, leaf: str, pfd: int) -> None:
        try:
            target = clean_parts(ti.linkname)
        except UnsafeEntry:
            raise UnsafeEntry(f'entry "{show(ti.name)}" is a hardlink to "{show(ti.linkname)}", '
                              'outside the image') from None
        tpath = "/".join(target)
        if not target or target[0] != "rootfs" or len(target) < 2:
            raise UnsafeEntry(f'entry "{show(ti.name)}" is a hardlink to "{show(ti.linkname)}", '
                              'outside the root filesystem')
        tkind = self._kinds.get(tpath)
        if tkind is None:
            raise UnsafeEntry(f'entry "{show(ti.name)}" is a hardlink to "{show(ti.linkname)}", '
                              'which is not in the archive before it')
        if tkind == "d":
            raise UnsafeEntry(f'entry "{show(ti.name)}" is a hardlink to directory "{show(ti.linkname)}"')
        tparent = "/".join(target[:-1])
        os.link(target[-1], leaf, src_dir_fd=self._dirfd(tparent), dst_dir_fd=pfd, follow_symlinks=False)

    def add_small(self, name: str, content: bytes, mode: int) -> None:
        """Write a top-level regular file (the manifest) from bytes already read."""
        fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=self._fds[""])
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, stat.S_IMODE(mode) or 0o644)
        finally:
            os.close(fd)
        self._kinds[name] = "f"

    def finish(self) -> None:
        """Set directory times (last, since creating entries changes them) and close descriptors."""
        self._trim_fds(keep=())
        root = self._fds[""]
        for path, mtime in sorted(self._dir_times, key=lambda t: -t[0].count("/")):
            os.utime(path, ns=(mtime, mtime), dir_fd=root, follow_symlinks=False)
        self.close()


def tar_entries(data: HashingReader, limits: Limits) -> Iterator[tuple[tarfile.TarInfo, tuple[str, ...]]]:
    """Each entry of the tar read from ``data`` with its cleaned name components, checked against ``limits``.

    File data is left for the caller to read from ``data`` before asking for the next entry.
    Raises :class:`UnsafeEntry` and :class:`~rkt.store.stream.StreamError` as :func:`extract_aci` does;
    at the end the rest of the stream is drained (so its hash covers it all).
    """
    entries = 0
    current = ""
    try:
        tf = tarfile.TarFile(fileobj=data, mode="r", tarinfo=_StrictInfo,  # type: ignore[arg-type]
                             errorlevel=2)
        while True:
            try:
                ti = tf.next()
            except tarfile.ReadError as e:
                msg = str(e)
                if "unexpected end" in msg:
                    raise StreamError(f'archive is truncated (after entry "{show(current)}")') from None
                if msg == "empty file":
                    raise StreamError("archive is empty") from None
                raise StreamError(f"corrupt archive ({msg})") from None
            if ti is None:
                break
            getattr(tf, "members").clear()  # noqa: B009 (stream use: keep memory flat)
            current = ti.name
            entries += 1
            if entries > limits.max_entries:
                raise UnsafeEntry(f"archive has more than {limits.max_entries} entries "
                                  "(the limit is set by RKT_MAX_IMAGE_ENTRIES)")
            if ti.isreg() and ti.offset_data + ti.size > limits.max_size:
                raise SizeLimitExceeded(f'entry "{show(ti.name)}" ({ti.size} bytes) takes the image over '
                                        f"the size limit of {limits.max_size} bytes (RKT_MAX_IMAGE_SIZE)")
            if data.tell() != ti.offset_data:
                data.seek(ti.offset_data)
            parts = clean_parts(ti.name)
            if parts:
                yield ti, parts
        if entries == 0:
            raise StreamError("not an image: no archive entries before the end-of-archive marker "
                              "(an ACI is a tar archive, optionally compressed)")
        current = ""
        data.drain(MAX_TRAILING)
    except SizeLimitExceeded as e:
        msg = str(e)
        if "entry" not in msg and current:
            msg = (f'entry "{show(current)}" takes the image over the size limit of {limits.max_size} bytes '
                   "(RKT_MAX_IMAGE_SIZE)")
        raise SizeLimitExceeded(msg) from None


def extract_aci(data: HashingReader, dest: Path, limits: Limits,
                on_manifest: Callable[[bytes], None] | None = None) -> Extracted:
    """Extract the ACI tar read from ``data`` into the empty directory ``dest``.

    Raises :class:`UnsafeEntry` for a refused entry, :class:`~rkt.store.stream.StreamError`
    for a truncated, corrupt or oversized stream, ``OSError`` if the disk refuses, and
    whatever ``on_manifest`` raises (it is called as soon as the manifest has been read).
    """
    writer = TreeWriter(dest)
    manifest: bytes | None = None
    entries = 0
    try:
        for ti, parts in tar_entries(data, limits):
            entries += 1
            if parts[0] == "manifest" and len(parts) == 1:
                if not ti.isreg():
                    raise UnsafeEntry('entry "manifest" is not a regular file')
                if ti.size > MAX_MANIFEST:
                    raise UnsafeEntry(f'entry "manifest" is {ti.size} bytes, over the limit of {MAX_MANIFEST}')
                if manifest is not None:
                    raise UnsafeEntry('entry "manifest" appears twice')
                manifest = data.read(ti.size)
                if len(manifest) != ti.size:
                    raise StreamError('archive is truncated (in entry "manifest")')
                if on_manifest is not None:
                    on_manifest(manifest)
                writer.add_small("manifest", manifest, ti.mode)
            elif parts[0] == "rootfs":
                if len(parts) == 1 and not ti.isdir():
                    raise UnsafeEntry(f'entry "{show(ti.name)}" is not a directory')
                try:
                    writer.add(ti, parts, data)
                except OSError as e:
                    raise EntryError(f'entry "{show(ti.name)}" cannot be extracted: {e.strerror}') from None
        writer.finish()
    finally:
        writer.close()
    if not (dest / "rootfs").is_dir():
        os.mkdir(dest / "rootfs", 0o755)
    return Extracted(data.hexdigest(), data.total, manifest, entries)
