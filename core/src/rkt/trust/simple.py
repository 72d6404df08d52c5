"""Registry images signed in the containers "simple signing" format (what ``skopeo copy --sign-by`` writes).

A signature is an OpenPGP signed message (not detached) whose content is a JSON document::

    {"critical": {"type": "atomic container signature",
                  "image": {"docker-manifest-digest": "sha256:..."},
                  "identity": {"docker-reference": "registry/repo:tag"}},
     "optional": {...}}

An image is accepted when one of its signatures verifies (``gpgv``) with a key trusted for
the longest matching prefix of ``registry/repository`` (or a root key), its digest is the
digest of the manifest bytes that were fetched, and its identity names the same
repository, and the same tag when the image was asked for by tag (the containers policy
``matchRepoDigestOrExact``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from rkt.trust.aci import signer_problem
from rkt.trust.errors import SignatureError
from rkt.trust.gpg import Check, Verdict
from rkt.trust.keystore import Keystore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.images.docker_reference import DockerReference

SIGNATURE_TYPE = "atomic container signature"


def manifest_digest(manifest: bytes, algorithm: str = "sha256") -> str:
    """``ALGO:hex`` of the manifest bytes as fetched."""
    try:
        return f"{algorithm}:{hashlib.new(algorithm, manifest).hexdigest()}"
    except ValueError:
        return ""


def _identity_problem(signed: str, wanted: DockerReference) -> str:
    from rkt.images.docker_reference import parse_docker_reference
    from rkt.images.errors import BadReference

    try:
        ref = parse_docker_reference(signed)
    except BadReference:
        return f'it names "{signed}", not an image reference'
    if ref.name != wanted.name:
        return f'it is for "{ref.name}", not "{wanted.name}"'
    if wanted.digest is None and ref.tag != wanted.tag:
        return f'it is for tag "{ref.tag}", not "{wanted.tag}"'
    return ""


def payload_problem(payload: bytes, wanted: DockerReference, manifest: bytes) -> str:
    """Why a verified signature's content does not vouch for this manifest of ``wanted`` ("" if it does)."""
    try:
        doc = json.loads(payload)
        critical = doc["critical"]
        kind = critical["type"]
        digest = critical["image"]["docker-manifest-digest"]
        identity = critical["identity"]["docker-reference"]
    except (ValueError, KeyError, TypeError):
        return "its content is not a simple-signing document"
    if kind != SIGNATURE_TYPE:
        return f'its type is "{kind}", not "{SIGNATURE_TYPE}"'
    if not isinstance(digest, str) or manifest_digest(manifest, digest.partition(":")[0]) != digest:
        return "it signs another manifest (the manifest was altered, or the signature is for another image)"
    return _identity_problem(str(identity), wanted)


def check_signature(keystore: Keystore, signature: bytes, wanted: DockerReference, manifest: bytes) -> Verdict:
    """Check one simple-signing signature; :class:`SignatureError` (reason only) if it does not vouch."""
    with tempfile.NamedTemporaryFile(prefix="rkt-sig-") as f:
        f.write(signature)
        f.flush()
        v = Check([k.path for k in keystore.trusted()], Path(f.name), None).verdict()
    problem, _ = signer_problem(v, wanted.name, keystore)
    if not problem:
        problem = payload_problem(v.payload, wanted, manifest)
    if problem:
        raise SignatureError(problem)
    return v


def verify_registry_image(keystore: Keystore, signatures: list[bytes], wanted: DockerReference,
                          manifest: bytes, display: str) -> Verdict:
    """Accept the image if one of ``signatures`` vouches for ``manifest``; else :class:`SignatureError`."""
    if not signatures:
        raise SignatureError(f'image "{display}": no signature found in the signature store for it; '
                             "use --insecure-options=image to skip the check")
    reasons = []
    for sig in signatures:
        try:
            return check_signature(keystore, sig, wanted, manifest)
        except SignatureError as e:
            reasons.append(str(e))
    shown = reasons[0] if len(set(reasons)) == 1 else "; ".join(f"signature {i + 1}: {r}" for i, r in
                                                                 enumerate(reasons))
    raise SignatureError(f'image "{display}": {shown}')
