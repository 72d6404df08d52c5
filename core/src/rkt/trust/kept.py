"""A registry image's simple-signing signatures, kept in the store when it was pulled, checked again.

Kept as a JSON document (:meth:`rkt.store.layout.Layout.registry_signatures`)::

    {"reference": "registry/repo:tag", "signed": "<base64 of the manifest signed>" (only when it
     is an index naming the stored manifest), "signatures": ["<base64 of one signature>", ...]}

``rkt image verify`` checks them against today's keys (:func:`verify_kept`): one must verify
with a key trusted for the repository, sign the bytes of the stored manifest (or of the index
that names it), and name the same repository and tag.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore
from rkt.trust.simple import manifest_digest, verify_registry_image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.images.docker_reference import DockerReference
    from rkt.trust.gpg import Verdict


def kept_document(ref: DockerReference, signed: bytes, manifest: bytes, signatures: list[bytes]) -> bytes:
    """What to keep for an image whose ``manifest`` was accepted by ``signatures`` of ``signed``."""
    doc: dict[str, object] = {"reference": str(ref),
                              "signatures": [base64.b64encode(s).decode("ascii") for s in signatures]}
    if signed != manifest:
        doc["signed"] = base64.b64encode(signed).decode("ascii")
    return json.dumps(doc, separators=(",", ":")).encode()


def _load(data: bytes, display: str) -> tuple[DockerReference, bytes | None, list[bytes]]:
    from rkt.images.docker_reference import parse_docker_reference
    from rkt.images.errors import BadReference

    try:
        doc = json.loads(data)
        ref = parse_docker_reference(doc["reference"])
        signed = base64.b64decode(doc["signed"], validate=True) if "signed" in doc else None
        sigs = [base64.b64decode(s, validate=True) for s in doc["signatures"]]
    except (ValueError, KeyError, TypeError, BadReference):
        raise SignatureError(f'image "{display}": its kept signatures are unreadable') from None
    return ref, signed, sigs


def _names(index: bytes, digest: str) -> bool:
    """Whether the index (or manifest list) ``index`` lists the manifest ``digest``."""
    try:
        entries = json.loads(index)["manifests"]
        return any(isinstance(e, dict) and e.get("digest") == digest for e in entries)
    except (ValueError, KeyError, TypeError):
        return False


def verify_kept(data: bytes, manifest: bytes, config_dirs: tuple[Path, ...], display: str) -> Verdict:
    """Check the kept ``data`` vouches for the stored ``manifest`` with today's keys; else :class:`SignatureError`."""
    ref, signed, sigs = _load(data, display)
    if signed is not None and not _names(signed, manifest_digest(manifest)):
        raise SignatureError(f'image "{display}": the signed index does not name the stored manifest')
    return verify_registry_image(Keystore.from_config_dirs(config_dirs), sigs, ref,
                                 manifest if signed is None else signed, display)
