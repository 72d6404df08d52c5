"""Signing keys for tests: real GnuPG in a temporary home directory.

``GpgHome(dir)`` makes keys with ``gpg --quick-gen-key`` (ed25519, no passphrase), exports
their public halves, signs files (``--armor --detach-sign``, or with a faked clock for an
expired key) and revokes keys with the revocation certificate gpg wrote. ``close()`` stops
the gpg-agent the home's secret-key operations started.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Key:
    """A key of a :class:`GpgHome`: its fingerprint (lowercase) and armored public key file."""

    def __init__(self, home: GpgHome, uid: str, fingerprint: str, public: Path) -> None:
        self.home = home
        self.uid = uid
        self.fingerprint = fingerprint
        self.public = public

    def sign(self, path: Path, out: Path | None = None, *, faked_time: str | None = None) -> Path:
        """A detached armored signature of ``path`` (default ``<path>.asc``)."""
        dest = out or path.with_name(path.name + ".asc")
        extra = ["--faked-system-time", faked_time] if faked_time else []
        self.home.gpg(*extra, "--yes", "--local-user", self.fingerprint, "--armor", "--detach-sign",
                      "--output", str(dest), str(path))
        return dest

    def revoked_public(self) -> Path:
        """The public key with its revocation certificate applied (a new file; the key still signs)."""
        out = self.home.dir.parent / f"{self.home.dir.name}-{self.fingerprint}-revoked.asc"
        if out.exists():
            return out
        cert = self.home.dir / "openpgp-revocs.d" / f"{self.fingerprint.upper()}.rev"
        text = cert.read_text().replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----")
        scratch = GpgHome(self.home.dir.parent / f"{self.home.dir.name}-{self.fingerprint}-scratch")
        try:
            fixed = scratch.dir / "revocation.asc"
            fixed.write_text(text)
            scratch.gpg("--import", str(self.public))
            scratch.gpg("--import", str(fixed))
            out.write_bytes(scratch.gpg("--armor", "--export", self.fingerprint).stdout)
        finally:
            scratch.close()
        return out


class GpgHome:
    """A private GNUPGHOME under ``dir``."""

    def __init__(self, dir: Path) -> None:
        self.dir = dir
        dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    def gpg(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ, GNUPGHOME=str(self.dir), LC_ALL="C")
        p = subprocess.run(["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "",
                            *args], capture_output=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr.decode()
        return p

    def new_key(self, uid: str, *, expire: str = "never", faked_time: str | None = None) -> Key:
        """A new ed25519 signing key (``expire`` as gpg takes it: ``never``, ``1d``...)."""
        extra = ["--faked-system-time", faked_time] if faked_time else []
        self.gpg(*extra, "--quick-gen-key", uid, "ed25519", "sign", expire)
        out = self.gpg("--with-colons", "--list-keys", f"={uid}").stdout.decode()
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")).lower()
        public = self.dir / f"{fpr}.asc"
        public.write_bytes(self.gpg("--armor", "--export", fpr).stdout)
        return Key(self, uid, fpr, public)

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.dir), "--kill", "gpg-agent"], capture_output=True,
                       timeout=30, check=False)
