"""Errors of fetching from a registry, beside the shared ones of :mod:`rkt.images.errors`.

Each message is one line naming the image; the registry's own reason is quoted as it gave it.
"""

from __future__ import annotations

from rkt.images.errors import AuthError, DigestMismatch, FetchError, ManifestUnknown

__all__ = ["AuthError", "ConnectError", "ContentError", "DigestMismatch", "FetchError", "ManifestUnknown",
           "RegistryError", "registry_reason"]


class ConnectError(FetchError):
    """The server could not be reached, or not safely (TLS, plain HTTP not allowed)."""


class RegistryError(FetchError):
    """The registry answered with an error (denied, unsupported...): its reason."""


class ContentError(FetchError):
    """What the registry sent is not what was asked for (size, media type)."""


def registry_reason(status: int, body: bytes) -> str:
    """The registry's reason for an error reply: its ``errors`` JSON in one line, else the HTTP status.

    ``{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}`` becomes
    ``manifest unknown (MANIFEST_UNKNOWN)``.
    """
    import json

    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    parts: list[str] = []
    errors = doc.get("errors") if isinstance(doc, dict) else None
    for e in errors if isinstance(errors, list) else []:
        if not isinstance(e, dict):
            continue
        msg = str(e.get("message") or e.get("code") or "").strip()
        code = str(e.get("code") or "").strip()
        parts.append(f"{msg} ({code})" if code and code != msg else msg)
    if isinstance(doc, dict) and not parts:
        detail = doc.get("details") or doc.get("message") or doc.get("error")
        if isinstance(detail, str) and detail.strip():
            parts.append(detail.strip())
    if not parts:
        from http import HTTPStatus

        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        return f"HTTP {status} {phrase}"
    return " ".join("; ".join(parts).split())
