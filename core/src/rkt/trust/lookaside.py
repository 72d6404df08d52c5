"""Where a registry image's simple-signing signatures live: the lookaside store ``registries.d`` names.

Configuration is the containers ``registries.d`` format: ``*.yaml`` files holding a
``docker:`` mapping from scopes (``registry``, ``registry/namespace``, ``registry/repo``,
``registry/repo:tag``) to sections, and an optional ``default-docker:`` section; a section's
``lookaside`` (or its older name ``sigstore``) is the base URL of the signature store
(``file://`` or ``https://``). Only the most precise scope that matches an image is used.
rkt reads ``registries.d/`` in its config dirs (system, local, user) and then the host's
``/etc/containers/registries.d`` (what skopeo and podman users already have).

The signatures of the manifest with digest ``ALGO:HEX`` of ``registry/repo`` are
``<base>/<repo>@ALGO=HEX/signature-1``, ``signature-2``, ... up to the first one missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rkt.trust.errors import TrustError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rkt.images.docker_reference import DockerReference

CONTAINERS_DIR = Path("/etc/containers/registries.d")
MAX_SIGNATURES = 64


def load_sections(dirs: list[Path]) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """``(docker scopes -> section, default-docker section)`` merged from every ``*.yaml`` of ``dirs``.

    A scope defined in two files is an error (as the format says); an earlier dir wins over
    the host's containers dir, so rkt's own config may override it.
    """
    import yaml

    scopes: dict[str, dict[str, Any]] = {}
    seen: dict[str, Path] = {}
    default: dict[str, Any] | None = None
    for d in dirs:
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".yaml"))
        except OSError:
            continue
        for n in names:
            path = d / n
            try:
                doc = yaml.safe_load(path.read_text()) or {}
            except (OSError, yaml.YAMLError) as e:
                raise TrustError(f"{path}: cannot read it: {str(e).splitlines()[0]}") from None
            if not isinstance(doc, dict):
                raise TrustError(f"{path}: not a YAML mapping")
            if isinstance(doc.get("default-docker"), dict) and default is None:
                default = doc["default-docker"]
            for scope, section in (doc.get("docker") or {}).items():
                if scope in seen and seen[scope].parent == d:
                    raise TrustError(f'{path}: scope "{scope}" is already configured in {seen[scope]}')
                if scope not in scopes and isinstance(section, dict):
                    scopes[scope] = section
                    seen[scope] = path
    return scopes, default


def _candidates(ref: DockerReference) -> list[str]:
    """Scopes from the most precise to the registry alone."""
    out = []
    if ref.digest:
        out.append(f"{ref.name}@{ref.digest}")
    if ref.tag:
        out.append(f"{ref.name}:{ref.tag}")
    parts = ref.name.split("/")
    out += ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
    return out


def lookaside_base(ref: DockerReference, config_dirs: tuple[Path, ...]) -> str | None:
    """The signature store's base URL for ``ref`` (None: no store configured)."""
    dirs = [d / "registries.d" for d in reversed(config_dirs)] + [CONTAINERS_DIR]
    scopes, default = load_sections(dirs)
    section = next((scopes[c] for c in _candidates(ref) if c in scopes), default)
    if not section:
        return None
    base = section.get("lookaside") or section.get("sigstore")
    return str(base).rstrip("/") if base else None


def signature_urls(base: str, ref: DockerReference, digest: str) -> list[str]:
    """The URLs of signatures 1..:data:`MAX_SIGNATURES` of the manifest ``digest``."""
    algo, _, hexpart = digest.partition(":")
    return [f"{base}/{ref.repository}@{algo}={hexpart}/signature-{i}" for i in range(1, MAX_SIGNATURES + 1)]


def read_signatures(ref: DockerReference, digest: str, config_dirs: tuple[Path, ...], *,
                    allow_http: bool = False, insecure_tls: bool = False) -> list[bytes]:
    """Every signature the lookaside store holds for the manifest ``digest`` of ``ref`` (maybe none)."""
    base = lookaside_base(ref, config_dirs)
    if base is None:
        return []
    out: list[bytes] = []
    for url in signature_urls(base, ref, digest):
        data = _read(url, allow_http, insecure_tls)
        if data is None:
            break
        out.append(data)
    return out


def _read(url: str, allow_http: bool, insecure_tls: bool) -> bytes | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        try:
            return Path(unquote(parts.path)).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise TrustError(f'signature store "{url}": {e.strerror}') from None
    from rkt.trust.remote import HttpError, get

    try:
        return get(url, allow_http=allow_http, insecure_tls=insecure_tls)
    except HttpError as e:
        if e.status in (403, 404):
            return None
        raise
