"""The keystore: public keys trusted for image name prefixes, as rkt kept them on disk.

::

    <config>/trustedkeys/root.d/<fingerprint>                  trusted for every image
    <config>/trustedkeys/prefix.d/<prefix>/<fingerprint>       trusted for names under <prefix>

``<config>`` is the system config dir (read) and the local one (read, and where ``rkt
trust`` writes). A prefix keeps its slashes as directories (``example.com/app``). A key of
the local dir replaces a system key with the same prefix and fingerprint; an empty local
file (or a link to ``/dev/null``) disables that system key, as rkt documented.

A prefix matches a name when it is the name or an ancestor of it by whole path components
(``example.com/app`` matches ``example.com/app`` and ``example.com/app/db``, never
``example.com/apple``). An image is checked against the keys of the longest prefix that
matches its name and holds keys, plus the root keys.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rkt.trust.errors import TrustError
from rkt_sdk.record import Record

DIRNAME = "trustedkeys"
_FPR = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._~@:-]*(/[a-z0-9._~@:-]+)*$")


class TrustedKey(Record):
    """A key file of the keystore: ``prefix`` (``""``: a root key), fingerprint, file and layer."""

    prefix: str
    fingerprint: str
    path: Path
    scope: str  # "system" or "local"

    @property
    def root(self) -> bool:
        return self.prefix == ""


def check_prefix(prefix: str) -> str:
    """``prefix`` normalised (no trailing slash); :class:`TrustError` if it cannot name images."""
    p = prefix.strip().rstrip("/")
    if not _PREFIX.match(p) or any(part in (".", "..") for part in p.split("/")):
        raise TrustError(f'--prefix="{prefix}": not an image name prefix (lowercase letters, digits, '
                         "and -._~@: in /-separated parts, such as example.com/app)")
    return p


def prefix_matches(prefix: str, name: str) -> bool:
    """Whether keys trusted for ``prefix`` apply to the image ``name`` (whole path components)."""
    return name == prefix or name.startswith(prefix + "/")


def _disabled(path: Path) -> bool:
    try:
        return os.path.realpath(path) == "/dev/null" or path.stat().st_size == 0
    except OSError:
        return True


class Keystore:
    """The trusted keys of the config dirs ``system`` (read only) and ``local`` (read and written)."""

    def __init__(self, system: Path | None, local: Path) -> None:
        self.system = system / DIRNAME if system is not None else None
        self.local = local / DIRNAME

    @classmethod
    def from_config_dirs(cls, config_dirs: tuple[Path, ...]) -> Keystore:
        """The keystore of rkt's config dirs, lowest precedence first: ``(system, local[, user])``."""
        if len(config_dirs) >= 2:
            return cls(config_dirs[0], config_dirs[1])
        return cls(None, config_dirs[0])

    # -- reading -------------------------------------------------------------------------------
    def _scan(self, top: Path, scope: str) -> dict[tuple[str, str], TrustedKey]:
        found: dict[tuple[str, str], TrustedKey] = {}
        root = top / "root.d"
        for name in _listdir(root):
            if _FPR.match(name):
                found[("", name)] = TrustedKey("", name, root / name, scope)
        base = top / "prefix.d"
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            prefix = os.path.relpath(dirpath, base)
            if prefix == ".":
                continue
            for name in filenames:
                if _FPR.match(name):
                    found[(prefix, name)] = TrustedKey(prefix, name, Path(dirpath) / name, scope)
        return found

    def trusted(self) -> list[TrustedKey]:
        """Every key in force: system keys not replaced or disabled by the local dir, then local ones."""
        merged = self._scan(self.system, "system") if self.system is not None else {}
        merged.update(self._scan(self.local, "local"))
        return sorted((k for k in merged.values() if not _disabled(k.path)),
                      key=lambda k: (k.prefix, k.fingerprint, k.scope))

    def keys_for(self, name: str) -> tuple[str, list[TrustedKey]]:
        """The keys an image named ``name`` is checked against: (longest matching prefix, its keys + root keys)."""
        keys = self.trusted()
        matching = [k.prefix for k in keys if not k.root and prefix_matches(k.prefix, name)]
        best = max(matching, key=len, default="")
        return best, [k for k in keys if k.root or (best and k.prefix == best)]

    # -- writing -------------------------------------------------------------------------------
    def key_path(self, prefix: str, fingerprint: str) -> Path:
        """Where the local dir keeps a key trusted for ``prefix`` (``""``: root)."""
        if prefix == "":
            return self.local / "root.d" / fingerprint
        return self.local / "prefix.d" / prefix / fingerprint

    def add(self, prefix: str, fingerprint: str, data: bytes) -> Path:
        """Trust the key ``data`` for ``prefix`` (``""``: every image); returns the file written."""
        if not _FPR.match(fingerprint):
            raise TrustError(f"bad key fingerprint {fingerprint!r}")
        dest = self.key_path(prefix, fingerprint)
        try:
            dest.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            tmp = dest.with_name(f".{fingerprint}.{os.getpid()}")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except OSError as e:
            raise TrustError(f"cannot write {dest}: {e.strerror or e}") from None
        return dest

    def remove(self, fingerprint: str, prefix: str | None = None) -> list[TrustedKey]:
        """Stop trusting a key (for ``prefix`` only if given); returns the keys removed.

        A local key file is deleted; a system key is disabled by an empty local file.
        """
        fpr = fingerprint.replace(" ", "").lower()
        gone = [k for k in self.trusted() if k.fingerprint == fpr and (prefix is None or k.prefix == prefix)]
        if not gone:
            where = f' for prefix "{prefix}"' if prefix else ""
            raise TrustError(f'no trusted key with fingerprint "{fingerprint}"{where} (see "rkt trust list")')
        for k in gone:
            try:
                if k.scope == "local":
                    os.unlink(k.path)
                    self._prune(k.path.parent)
                else:
                    dest = self.key_path(k.prefix, k.fingerprint)
                    dest.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                    dest.write_bytes(b"")
            except OSError as e:
                raise TrustError(f"cannot remove {k.path}: {e.strerror or e}") from None
        return gone

    def _prune(self, d: Path) -> None:
        """Remove empty prefix directories left by a removal (up to ``prefix.d``)."""
        stop = self.local / "prefix.d"
        while d != stop and stop in d.parents:
            try:
                d.rmdir()
            except OSError:
                return
            d = d.parent


def _listdir(d: Path) -> list[str]:
    try:
        return sorted(os.listdir(d))
    except OSError:
        return []
