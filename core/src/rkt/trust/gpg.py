"""OpenPGP through Debian's GnuPG: ``gpg`` to read keys, ``gpgv`` to check signatures.

A detached signature (an ACI's) is checked by ``sqv`` where it is installed, gpgv then only
saying why a refused one is refused (:mod:`rkt.trust.sqv`, with the measurements behind that);
gpgv checks inline-signed messages (registry images' simple signing, :mod:`rkt.trust.simple`:
small, and sqv reads only detached signatures) and everything where sqv is absent.

rkt never reads OpenPGP packets itself. Both programs run as subprocesses with a private,
throw-away home directory (``--no-autostart``: no agent is ever started) and report through
their documented machine interfaces: ``--with-colons`` listings for keys and ``--status-fd``
lines (``VALIDSIG``, ``EXPKEYSIG``, ``REVKEYSIG``, ``BADSIG``, ``ERRSIG``, ``NO_PUBKEY``) for
signatures. Why subprocesses rather than a Python binding: nothing is imported into rkt
(a ``run`` of a stored image pays nothing), gpgv is the verifier distributions themselves
trust for their archives, and a check of a large image runs in its own process, beside the
import that reads the same file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rkt.trust.errors import TrustError
from rkt.trust.feeding import FedCheck, feed_socket
from rkt_sdk.record import Record

ENV = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
_ARMOR = b"-----BEGIN PGP"


class KeyInfo(Record):
    """One public key as ``gpg`` lists it.

    ``validity`` is gpg's letter: ``r`` revoked, ``e`` expired, anything else usable;
    ``expires`` is seconds since the epoch (0: never); ``signing_subkeys``: the validity letter
    of each subkey that can sign.
    """

    fingerprint: str
    uids: tuple[str, ...]
    created: int
    expires: int
    validity: str
    signing_subkeys: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        return self.validity == "r"

    @property
    def expired(self) -> bool:
        return self.validity == "e"


class Verdict(Record):
    """What ``gpgv`` said of a signature.

    ``status``: ``good``, ``bad`` (data or signature altered), ``expired`` / ``revoked`` (made by
    a key that is expired or revoked now), ``nokey`` (no key of the keyring made it) or
    ``error`` (unreadable signature), or ``refused`` (gpgv accepts it but sqv, the verifier of
    record where installed, does not: ``detail`` says why, for instance a SHA-1 signature).
    ``fingerprint`` is the primary key's, ``uid`` the signer's user id (both empty when
    unknown); ``payload`` is the signed content of an inline-signed message.
    """

    status: str
    fingerprint: str = ""
    uid: str = ""
    payload: bytes = b""
    detail: str = ""


def program(name: str) -> str:
    """Where the program ``name`` is installed; :class:`TrustError` if it is not."""
    path = shutil.which(name, path=ENV["PATH"])
    if path is None:
        raise TrustError(f"{name} is not installed (Debian package gpg / gpgv); it checks image signatures")
    return path


def _unescape(field: str) -> str:
    """gpg's colon-listing escapes (``\\x3a``) undone."""
    if "\\x" not in field:
        return field
    return field.encode("latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def parse_colons(text: str) -> list[KeyInfo]:
    """Keys of a ``gpg --with-colons`` listing (``pub`` records with their ``fpr`` and ``uid``)."""
    keys: list[KeyInfo] = []
    cur: dict[str, object] | None = None
    in_sub = False

    def close() -> None:
        if cur is not None and cur["fpr"]:
            keys.append(KeyInfo(str(cur["fpr"]).lower(), tuple(cur["uids"]),  # type: ignore[arg-type]
                                int(str(cur["created"]) or 0), int(str(cur["expires"]) or 0), str(cur["validity"]),
                                tuple(cur["subs"])))  # type: ignore[arg-type]

    for line in text.splitlines():
        f = line.split(":")
        if f[0] == "pub":
            close()
            cur = {"fpr": "", "uids": [], "created": f[5], "expires": f[6], "validity": f[1], "subs": []}
            in_sub = False
        elif cur is None:
            continue
        elif f[0] in ("sub", "ssb"):
            in_sub = True
            if len(f) > 11 and "s" in f[11]:
                cur["subs"].append(f[1])  # type: ignore[attr-defined]
        elif f[0] == "fpr" and not in_sub and not cur["fpr"]:
            cur["fpr"] = f[9]
        elif f[0] == "uid" and len(f) > 9:
            cur["uids"].append(_unescape(f[9]))  # type: ignore[attr-defined]
    close()
    return keys


class TempHome:
    """A private GnuPG home directory, removed on exit."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="rkt-gpg-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def listing_argv(home: Path) -> list[str]:
    """gpg reading keys (from stdin, or the files that follow) as a colon listing, importing nothing."""
    return [program("gpg"), "--homedir", str(home), "--batch", "--no-tty", "--no-autostart", "--with-colons",
            "--fixed-list-mode", "--import-options", "show-only", "--import"]


def inspect_keys(data: bytes) -> list[KeyInfo]:
    """The public keys in ``data`` (armored or binary), first key first; nothing is imported anywhere.

    :raises TrustError: ``data`` holds no OpenPGP public key.
    """
    with TempHome() as home:
        p = subprocess.run(listing_argv(home), input=data, capture_output=True, env=ENV, check=False)
    keys = parse_colons(p.stdout.decode("utf-8", "replace"))
    if not keys:
        raise TrustError("not an OpenPGP public key")
    return keys


def write_keyring(key_files: list[Path], dest: Path, home: Path) -> None:
    """Write the keys of ``key_files`` (armored or binary) as one binary keyring ``dest`` for gpgv."""
    armored: list[bytes] = []
    with open(dest, "wb") as out:
        for f in key_files:
            try:
                data = f.read_bytes()
            except OSError:
                continue
            if not data:
                continue
            if data.lstrip()[: len(_ARMOR)] == _ARMOR:
                armored.append(data if data.endswith(b"\n") else data + b"\n")
            else:
                out.write(data)
        if armored:
            p = subprocess.run([program("gpg"), "--homedir", str(home), "--batch", "--no-tty", "--no-autostart",
                                "--dearmor"], input=b"".join(armored), capture_output=True, env=ENV, check=False)
            out.write(p.stdout)


def parse_status(text: str) -> Verdict:
    """The verdict of ``gpgv --status-fd`` output (one signature)."""
    status = "error"
    fpr = uid = ""
    for line in text.splitlines():
        if not line.startswith("[GNUPG:] "):
            continue
        word, _, rest = line[9:].partition(" ")
        if word == "GOODSIG":
            status, uid = "good", rest.partition(" ")[2]
        elif word in ("EXPKEYSIG", "REVKEYSIG"):
            status, uid = ("expired" if word == "EXPKEYSIG" else "revoked"), rest.partition(" ")[2]
        elif word == "BADSIG":
            status, uid = "bad", rest.partition(" ")[2]
        elif word == "NO_PUBKEY" and status == "error":
            status = "nokey"
        elif word == "VALIDSIG":
            fpr = rest.split(" ")[-1].lower()
        elif word == "ERRSIG" and status == "error":
            fields = rest.split(" ")
            status = "nokey" if len(fields) >= 6 and fields[5] == "9" else "error"
    if status in ("good", "expired", "revoked") and not fpr:
        status = "error"
    return Verdict(status, fpr, uid)


class Check(FedCheck):
    """A ``gpgv`` run checking one signature, started at once; :meth:`verdict` waits for it.

    ``data`` is a file (detached signature) or None (``signature`` is an inline-signed
    message whose payload is returned). The check reads the files itself, so it runs beside
    whatever the caller does with the same data. With ``streamed``, the signed data is not a
    file but is given to :meth:`feed` as it arrives (a download).
    """

    def __init__(self, key_files: list[Path], signature: Path, data: Path | None, *, streamed: bool = False) -> None:
        self._home = TempHome()
        home = self._home.__enter__()
        feed = None
        try:
            keyring = home / "trusted.gpg"
            write_keyring(key_files, keyring, home)
            argv = [program("gpgv"), "--homedir", str(home), "--keyring", str(keyring), "--status-fd", "1"]
            if data is None:
                argv += ["--output", str(home / "payload")]
            argv += ["--", str(signature)] + (["-"] if streamed else [str(data)] if data is not None else [])
            self._inline = data is None and not streamed
            feed, their_end = feed_socket() if streamed else (None, subprocess.DEVNULL)
            try:
                self._proc = subprocess.Popen(argv, stdin=their_end, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                              env=ENV)
            finally:
                if feed is not None:
                    os.close(their_end)
        except BaseException:
            if feed is not None:
                feed.close()
            self._home.__exit__()
            raise
        self._feeder = feed

    def verdict(self, data: Path | None = None) -> Verdict:
        """Wait for gpgv and return what it found (once); ``data`` is not needed (gpgv had it all)."""
        try:
            self._stop_feeding()
            out = self._proc.stdout.read() if self._proc.stdout is not None else b""
            self._proc.wait()
            v = parse_status(out.decode("utf-8", "replace"))
            if self._inline and v.status == "good":
                try:
                    v = Verdict(v.status, v.fingerprint, v.uid, (self._home.path / "payload").read_bytes())
                except OSError:
                    v = Verdict("error")
            return v
        finally:
            self._home.__exit__()

    def cancel(self) -> None:
        """Stop the check (the caller failed before it needed the answer); nothing once it answered."""
        if self._done:
            return
        self._done = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._stop_feeding()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()
        self._home.__exit__()
