"""Checking a detached signature with ``sqv``, Sequoia's verifier; ``gpgv`` where sqv is not installed.

Why sqv: the check of a downloaded ACI runs beside rkt's own import of it, and GnuPG 2.2's
gpgv hashes a detached signature's data a byte at a time in its own loop. Measured on the
bench's 210 MiB image (2 vCPUs, ed25519 key, SHA-256 signature, file in the page cache):
gpgv 2.2.40 takes 0.65 s (0.63 s of CPU), sqv 1.1.0 (Debian package ``sqv``, Sequoia's
OpenPGP with Nettle) 0.14 s (0.13 s of CPU), 0.18 s fed through a pipe. Beside the import,
the signed fetch cost 1.3-1.45x the unchecked one with gpgv, 1.03-1.13x with sqv (bench suite
``verify``, idle machine; up to 1.26x with another test suite running). Both are maintained
OpenPGP implementations run as subprocesses; rkt reads no OpenPGP packet itself.

How a verdict is reached (:meth:`SqvCheck.verdict`):

- sqv checks the signature against every trusted key file (``--keyring`` each) and prints
  the signer's primary fingerprint; meanwhile ``gpg`` lists the same key files (user ids,
  expiry, revocation), which takes a few milliseconds. The signature is good when sqv
  accepts it and gpg lists the signer's key as neither expired nor revoked *today*, nor its
  signing subkeys: sqv judges a key at the time of the signature, rkt as gpgv does, now.
- Anything else is a refusal, worded as before: gpgv checks the same signature on the
  same data (for a download, the file the import wrote) and says why (altered, no trusted
  key, expired, revoked, unreadable). Should gpgv accept what sqv refused (a SHA-1
  signature, which sqv's policy rejects), the verdict is ``refused`` with sqv's reason.

The success path runs sqv and one ``gpg`` listing, never gpgv.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from rkt.trust.feeding import FedCheck
from rkt.trust.gpg import ENV, Check, KeyInfo, TempHome, Verdict, listing_argv, parse_colons


def sqv_binary() -> str | None:
    """Where sqv is installed (None: not installed, checks fall back to gpgv)."""
    return shutil.which("sqv", path=ENV["PATH"])


def detached_check(key_files: list[Path], signature: Path, data: Path | None, *,
                   streamed: bool = False) -> SqvCheck | Check:
    """A check of the detached ``signature`` of ``data`` (or of what is fed to it, ``streamed``),
    started at once: by sqv where installed, else by gpgv."""
    sqv = sqv_binary()
    if sqv is None:
        return Check(key_files, signature, data, streamed=streamed)
    return SqvCheck(sqv, key_files, signature, data, streamed=streamed)


def usable(key: KeyInfo) -> bool:
    """Whether a key may sign today: neither it nor a signing subkey expired or revoked."""
    return not key.expired and not key.revoked and not any(v in ("e", "r") for v in key.signing_subkeys)


#: Characters of sqv's report kept in a refusal's one line.
REASON_LIMIT = 300


def sqv_reason(stderr: str) -> str:
    """What sqv's ``--verbose`` report says of a refused signature, on one line (at most
    :data:`REASON_LIMIT` characters)."""
    skip = ("Verifying signature:", "signatures are valid")
    lines = [" ".join(line.split()) for line in stderr.splitlines()]
    text = " ".join(line for line in lines if line and not any(s in line for s in skip)) or "no valid signature"
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT - 3] + "..."


class SqvCheck(FedCheck):
    """An sqv run checking one detached signature, started at once; :meth:`verdict` waits for it.

    ``data`` is the signed file, or None with ``streamed``: then the data is given to
    :meth:`feed` as it arrives (a download), and :meth:`verdict` is told where it was written,
    for the wording of a refusal.
    """

    def __init__(self, sqv: str, key_files: list[Path], signature: Path, data: Path | None, *,
                 streamed: bool = False) -> None:
        self._key_files = list(key_files)
        self._signature = signature
        self._data = data
        self._proc: subprocess.Popen[bytes] | None = None
        self._home = TempHome()
        home = self._home.__enter__()
        try:
            self._listing = subprocess.Popen([*listing_argv(home), "--", *map(str, key_files)],
                                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, env=ENV)
            if key_files:
                self._start(sqv, streamed)
        except BaseException:
            self.cancel()
            raise

    def _start(self, sqv: str, streamed: bool) -> None:
        argv = [sqv, "--verbose"]
        for f in self._key_files:
            argv += ["--keyring", str(f)]
        argv += ["--", str(self._signature), "/dev/stdin" if streamed else str(self._data)]
        their_end: int = subprocess.DEVNULL
        if streamed:
            from rkt.trust.feeding import feed_pipe

            self._feeder, their_end = feed_pipe()
        try:
            self._proc = subprocess.Popen(argv, stdin=their_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          env=ENV)
        finally:
            if streamed:
                import os

                os.close(their_end)

    def verdict(self, data: Path | None = None) -> Verdict:
        """Wait for sqv and return the verdict (once); ``data``: where a streamed check's data now is."""
        try:
            self._stop_feeding()
            out, err = self._proc.communicate() if self._proc is not None else (b"", b"")
            listing = self._listing.communicate()[0]
            accepted = self._proc is not None and self._proc.returncode == 0
            fpr = out.decode("ascii", "replace").partition("\n")[0].strip().lower() if accepted else ""
            key = next((k for k in parse_colons(listing.decode("utf-8", "replace")) if k.fingerprint == fpr), None)
            if key is not None and usable(key):
                return Verdict("good", fpr, key.uids[0] if key.uids else "")
            return self._diagnose(data or self._data, accepted, sqv_reason(err.decode("utf-8", "replace")))
        finally:
            self._home.__exit__()

    def _diagnose(self, data: Path | None, accepted: bool, reason: str) -> Verdict:
        """gpgv's verdict on the same signature and data, to say why it is refused."""
        if data is None:
            return Verdict("refused", detail=reason)
        v = Check(self._key_files, self._signature, data).verdict()
        if v.status == "good" and not accepted:
            return Verdict("refused", v.fingerprint, v.uid, detail=reason)
        return v

    def cancel(self) -> None:
        """Stop the check (the caller failed before it needed the answer); nothing once it answered."""
        if self._done:
            return
        self._done = True
        for p in (self._proc, getattr(self, "_listing", None)):
            if p is not None and p.poll() is None:
                p.kill()
        self._stop_feeding()
        for p in (self._proc, getattr(self, "_listing", None)):
            if p is not None:
                p.communicate()
        self._home.__exit__()
