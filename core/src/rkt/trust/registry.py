"""The signature check of a registry image before the pull engine commits it.

The signatures are read from the lookaside store that ``registries.d`` names for the image
(:mod:`rkt.trust.lookaside`), for the manifest the reference named (an index, or a single
image's manifest) and, failing that, for the image manifest picked for this host; one of
them must vouch for those bytes (:mod:`rkt.trust.simple`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore
from rkt.trust.lookaside import lookaside_base, read_signatures
from rkt.trust.simple import manifest_digest, verify_registry_image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.images.docker_reference import DockerReference
    from rkt.images.pulled import Pulled
    from rkt.images.source import SourceOptions


def check_pull(pulled: Pulled, options: SourceOptions) -> bytes | None:
    """Decide whether a fetched image may be stored; the pull engine calls it once the image's manifest
    and config are read, before any layer is downloaded (nothing of an image refused is read further or stored).

    A registry image must carry a simple-signing signature (what ``skopeo copy --sign-by``
    writes) by a key trusted for its repository, unless ``--insecure-options=image``; local
    sources are the user's own files, like ACI files. Returns the signatures to keep with the image
    (:func:`rkt.trust.kept.kept_document`), None when nothing was verified.
    """
    if pulled.ref.transport != "docker":
        return None
    if "image" in options.insecure:
        sys.stderr.write("warning: image signature verification is disabled (--insecure-options=image)\n")
        return None
    assert pulled.ref.docker is not None
    from rkt.trust.kept import kept_document

    signed, sigs = verify_registry_pull(options.config_dirs, options.insecure, pulled.ref.docker,
                                        pulled.source.display, [pulled.named_raw, pulled.manifest_raw])
    return kept_document(pulled.ref.docker, signed, pulled.manifest_raw, sigs)


def verify_registry_pull(config_dirs: tuple[Path, ...], insecure: frozenset[str], ref: DockerReference,
                         display: str, manifests: list[bytes]) -> tuple[bytes, list[bytes]]:
    """Accept the pulled image or raise :class:`SignatureError` naming it and the reason; returns the
    manifest the signatures vouched for and those signatures.

    :param manifests: the manifest the reference named first, then the one picked for this host
        (the same bytes twice for a single-image reference).
    """
    keystore = Keystore.from_config_dirs(config_dirs)
    opts = {"allow_http": "http" in insecure, "insecure_tls": "tls" in insecure}
    first: SignatureError | None = None
    for raw in dict.fromkeys(manifests):
        sigs = read_signatures(ref, manifest_digest(raw), config_dirs, **opts)
        if not sigs and first is not None:
            continue
        try:
            v = verify_registry_image(keystore, sigs, ref, raw, display)
        except SignatureError as e:
            first = first or e
            continue
        sys.stderr.write(f'image "{display}" verified: signed by {v.uid or v.fingerprint} ({v.fingerprint})\n')
        return raw, sigs
    if lookaside_base(ref, config_dirs) is None:
        raise SignatureError(f'image "{display}": no signature store is configured for {ref.name} '
                             "(registries.d); use --insecure-options=image to skip the check")
    assert first is not None
    raise first
