"""``rkt image verify``: a stored image checked again against the keys trusted today."""

from __future__ import annotations

from pathlib import Path

from rkt.trust.aci import verify_file
from rkt.trust.errors import SignatureError
from rkt.trust.keystore import Keystore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt.store import Store


def verify_stored(store: Store, ref: str, config_dirs: tuple[Path, ...]) -> str:
    """Check the stored image ``ref`` with the signature kept when it was fetched; returns a line to print.

    :raises SignatureError: no signature was kept, or it no longer verifies (key removed,
        expired or revoked, or the stored blob altered).
    """
    from rkt.store import short_id

    rec = store.resolve(ref)
    display = f"{short_id(rec.id)} {rec.name}"
    sig = store.signature(rec.id)
    if sig is None:
        from rkt.store.oci_images import is_oci

        if is_oci(store, rec.id):
            return _verify_registry(store, rec.id, ref, rec.name, display, config_dirs)
        raise SignatureError(f'image "{ref}" ({rec.name}): no signature is stored with it '
                             "(it was fetched without verification)")
    v = verify_file(Keystore.from_config_dirs(config_dirs), store.blob_path(rec.id), sig, rec.name, ref)
    return f"{display}: verified, signed by {v.uid or v.fingerprint} ({v.fingerprint})"


def _verify_registry(store: Store, image_id: str, ref: str, name: str, display: str,
                     config_dirs: tuple[Path, ...]) -> str:
    """A registry image checked with the simple-signing signatures kept when it was pulled."""
    kept = store.registry_signatures(image_id)
    if kept is None:
        raise SignatureError(f'image "{ref}" ({name}): no signature is stored with it '
                             "(it was fetched without verification, or from a local OCI source)")
    from rkt.trust.kept import verify_kept

    v = verify_kept(kept, store.blob_path(image_id).read_bytes(), config_dirs, ref)
    return f"{display}: verified, signed by {v.uid or v.fingerprint} ({v.fingerprint})"
