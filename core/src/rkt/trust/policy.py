"""What a fetch checks: the signature policy of one command, cheap to make.

:class:`ImagePolicy` is made by every command that may fetch an image (``fetch``, ``run``,
``prepare``); it imports nothing of OpenPGP until a file is actually checked, so a ``run``
of a stored image pays nothing for it. ``--insecure-options=image`` turns checks off, with
a warning on stderr the first time one is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from rkt.store import ImageRecord, Store
    from rkt.trust.aci import PendingCheck
    from rkt.trust.keystore import Keystore

#: An image without a signature is refused (unless ``--insecure-options=image``), as rkt refused it.
REQUIRE_SIGNATURE = True


class ImagePolicy:
    """Signature checks of one command.

    :param config_dirs: rkt's config dirs (the keystore's system and local dirs).
    :param insecure: ``--insecure-options`` values; ``image`` skips every check.
    :param signatures: ``--signature`` files by the image reference they belong to.
    :param debug: ``--debug``: a registry source shows each request on stderr.
    """

    def __init__(self, config_dirs: tuple[Path, ...], insecure: frozenset[str] = frozenset(),
                 signatures: dict[str, Path] | None = None, *, quiet: bool = False,
                 trust_keys_from_https: bool = False, debug: bool = False) -> None:
        self.config_dirs = config_dirs
        self.debug = debug
        self.insecure = insecure
        self.signatures = dict(signatures or {})
        self.quiet = quiet
        self.trust_keys_from_https = trust_keys_from_https
        self._warned = False

    @property
    def skip(self) -> bool:
        """Whether signatures are not checked (``--insecure-options=image``)."""
        return "image" in self.insecure

    def warn_skipped(self) -> None:
        """Say once on stderr that an image is taken without its signature checked."""
        if not self._warned:
            sys.stderr.write("warning: image signature verification is disabled (--insecure-options=image)\n")
            sys.stderr.flush()
            self._warned = True

    def keystore(self) -> Keystore:
        from rkt.trust.keystore import Keystore

        return Keystore.from_config_dirs(self.config_dirs)

    def begin(self, ref: str, path: Path, signature: Path | None = None) -> PendingCheck | None:
        """Start checking the image file ``path`` (named ``ref``); None when no check is made.

        The signature is ``signature``, the ``--signature`` given for ``ref``, or ``<file>.asc``.
        """
        if self.skip:
            self.warn_skipped()
            return None
        from rkt.trust.aci import AciVerifier

        verifier = AciVerifier(self.keystore(), self.signatures, self.quiet)
        if signature is None and not REQUIRE_SIGNATURE and ref not in self.signatures \
                and not path.with_name(path.name + ".asc").is_file():
            return None
        return verifier.begin(ref, path, signature)

    def begin_url(self, url: str, fetch_signature: Callable[[], bytes | None]) -> PendingCheck | None:
        """Start checking the ACI downloading from ``url``; None when no check is made.

        The signature is the ``--signature`` given for ``url``, else what ``fetch_signature``
        returns (``<url>.asc``; None when the server has none). The check is fed the image's
        bytes as the import reads the download.
        """
        if self.skip:
            self.warn_skipped()
            return None
        from rkt.trust.aci import AciVerifier
        from rkt.trust.errors import SignatureError

        asc = self.signatures.get(url)
        try:
            signature = asc.read_bytes() if asc is not None else fetch_signature()
        except OSError as e:
            raise SignatureError(f'image "{url}": cannot read its signature {asc}: {e.strerror}') from None
        if signature is None:
            if not REQUIRE_SIGNATURE:
                return None
            raise SignatureError(f'image "{url}": no signature found ({url}.asc, or --signature=FILE); '
                                 "use --insecure-options=image to skip the check")
        return AciVerifier(self.keystore(), self.signatures, self.quiet).begin_stream(url, signature)

    def fetch(self, store: Store, ref: str, pull_policy: str = "new") -> ImageRecord:
        """Make the image ``ref`` names available in ``store`` under these checks (see
        :func:`rkt.trust.fetching.fetch_image`)."""
        from rkt.trust.fetching import fetch_image

        return fetch_image(store, ref, insecure=self.insecure, verifier=self, pull_policy=pull_policy,
                           config_dirs=self.config_dirs, debug=self.debug)

    def find_id(self, store: Store, ref: str, pull_policy: str = "new") -> str:
        """The full id of the image ``ref`` names: a stored id is found without the index or any
        fetching machinery (a pod from a stored image imports nothing of it); anything else as
        :meth:`fetch` finds or brings it."""
        image_id = store.stored_id(ref)
        return image_id if image_id is not None else self.fetch(store, ref, pull_policy).id

    def fetch_name(self, store: Store, ref: str, name: str, version: str | None) -> ImageRecord:
        """Find ``name[:version]`` by appc discovery, then download, check and import it."""
        from rkt.trust.named import fetch_by_name

        return fetch_by_name(self, store, ref, name, version)
