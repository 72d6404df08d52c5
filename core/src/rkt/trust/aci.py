"""Checking an ACI against its detached signature and the keys trusted for its name.

The check runs in two steps so it costs almost nothing on top of an import: :meth:`AciVerifier.begin`
starts the verifier (``sqv``, else ``gpgv``: :mod:`rkt.trust.sqv`) on the image file (against
every trusted key) while the store reads the same file; the returned :class:`PendingCheck` is
asked, once the store has read the image's manifest and before it keeps anything, whether the
signer is trusted for that name.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore, TrustedKey
from rkt.trust.sqv import detached_check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.trust.gpg import Check, Verdict
    from rkt.trust.sqv import SqvCheck
if TYPE_CHECKING:
    from collections.abc import Callable

    from rkt_sdk.appc import ImageManifest

_SKIP = "--insecure-options=image to skip the check"


def signer_problem(v: Verdict, name: str, keystore: Keystore) -> tuple[str, list[TrustedKey]]:
    """Why a signature does not make ``name`` trusted ("" if it does), and the keys it was checked against."""
    prefix, keys = keystore.keys_for(name)
    where = f'prefix "{prefix}"' if prefix else f'"{name}"'
    if v.status == "bad":
        return "the signature does not match the image (the image or its signature was altered)", keys
    if v.status == "error":
        return "the signature is not an OpenPGP signature gpgv can read", keys
    if v.status == "refused":
        return f"sqv refuses the signature: {v.detail}", keys
    if v.status == "nokey":
        if not keys:
            return f"no key is trusted for {where} or as a root key (see \"rkt trust\")", keys
        return f"signed by a key that is not trusted for {where} or as a root key", keys
    who = f'key {v.fingerprint} ("{v.uid}")' if v.uid else f"key {v.fingerprint}"
    if v.status in ("expired", "revoked"):
        return f"signed by {who}, which is {v.status}", keys
    if any(k.fingerprint == v.fingerprint for k in keys):
        return "", keys
    others = sorted({k.prefix for k in keystore.trusted() if k.fingerprint == v.fingerprint})
    if others:
        return f'signed by {who}, which is trusted for prefix "{others[0]}", not for {where}', keys
    return f"signed by {who}, which is not trusted for {where} or as a root key", keys


class PendingCheck:
    """A started signature check of one image file; :meth:`finish` decides, :meth:`cancel` drops it."""

    def __init__(self, check: Check | SqvCheck, keystore: Keystore, display: str, signature: Path, quiet: bool,
                 *, streamed: bool = False, owned: bool = False) -> None:
        self._check = check
        self._keystore = keystore
        self._display = display
        self._signature = signature
        self._quiet = quiet
        self._streamed = streamed
        self._owned = owned  # the signature is a temporary file of ours

    @property
    def feed(self) -> Callable[[bytes], None] | None:
        """Where a download's bytes go (a streamed check), else None: the verifier reads the file itself."""
        return self._check.feed if self._streamed else None

    def _drop_signature(self) -> None:
        if self._owned:
            self._signature.unlink(missing_ok=True)

    def finish(self, manifest: ImageManifest, data: Path | None = None) -> bytes:
        """Wait for the verifier; returns the signature's bytes (kept beside the image) or raises
        :class:`SignatureError`. ``data``: the file the import wrote (a streamed check's data, read
        again only to say why a signature is refused)."""
        name = str(manifest.name)
        try:
            v = self._check.verdict(data)
            problem, _ = signer_problem(v, name, self._keystore)
            if problem:
                raise SignatureError(f'image "{self._display}" ({name}): {problem}')
            if not self._quiet:
                sys.stderr.write(f'image "{name}" verified: signed by {v.uid or v.fingerprint} ({v.fingerprint})\n')
            try:
                return self._signature.read_bytes()
            except OSError as e:
                raise SignatureError(f'image "{self._display}": cannot read its signature {self._signature}: '
                                     f"{e.strerror}") from None
        finally:
            self._drop_signature()

    def cancel(self) -> None:
        self._check.cancel()
        self._drop_signature()


class AciVerifier:
    """Starts checks of ACI files against the keystore.

    :param signatures: signature files given on the command line, by image reference.
    """

    def __init__(self, keystore: Keystore, signatures: dict[str, Path] | None = None, quiet: bool = False) -> None:
        self.keystore = keystore
        self.signatures = dict(signatures or {})
        self.quiet = quiet

    def signature_for(self, ref: str, path: Path) -> Path:
        """The signature of the image file ``path`` (named ``ref`` by the user): ``--signature`` or ``<file>.asc``."""
        given = self.signatures.get(ref)
        if given is not None:
            if not given.is_file():
                raise SignatureError(f'image "{ref}": signature file {given} does not exist')
            return given
        beside = path.with_name(path.name + ".asc")
        if not beside.is_file():
            raise SignatureError(f'image "{ref}": no signature found ({beside.name} beside it, or --signature=FILE); '
                                 f"use {_SKIP}")
        return beside

    def begin(self, ref: str, path: Path, signature: Path | None = None) -> PendingCheck:
        """Start checking the image file ``path``; ``signature`` defaults to :meth:`signature_for`."""
        sig = signature if signature is not None else self.signature_for(ref, path)
        keys = [k.path for k in self.keystore.trusted()]
        return PendingCheck(detached_check(keys, sig, path), self.keystore, ref, sig, self.quiet)

    def begin_stream(self, display: str, signature: bytes) -> PendingCheck:
        """Start checking an image that will be fed to the check as it downloads (``signature``: its bytes)."""
        import tempfile

        fd, name = tempfile.mkstemp(prefix="rkt-sig-")
        with open(fd, "wb") as f:
            f.write(signature)
        sig = Path(name)
        try:
            check = detached_check([k.path for k in self.keystore.trusted()], sig, None, streamed=True)
        except BaseException:
            sig.unlink()
            raise
        return PendingCheck(check, self.keystore, display, sig, self.quiet, streamed=True, owned=True)


def verify_file(keystore: Keystore, image: Path, signature: Path, name: str, display: str) -> Verdict:
    """Check a stored image file against its signature now (``rkt image verify``)."""
    v = detached_check([k.path for k in keystore.trusted()], signature, image).verdict()
    problem, _ = signer_problem(v, name, keystore)
    if problem:
        raise SignatureError(f'image "{display}" ({name}): {problem}')
    return v
