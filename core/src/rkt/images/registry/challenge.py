"""``WWW-Authenticate`` challenges (RFC 7235) as registries send them.

``Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"``
becomes ``Challenge("bearer", {"realm": ..., "service": ..., "scope": ...})``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rkt_sdk.record import Record

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)')
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.+-]*)\s*")


class Challenge(Record):
    """One challenge: ``scheme`` lowercased (``bearer``, ``basic``) and its parameters (names lowercased)."""

    scheme: str
    params: Mapping[str, str]


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value (several may share one header)."""
    out: list[Challenge] = []
    pos = 0
    while pos < len(header):
        m = _SCHEME.match(header, pos)
        if not m:
            break
        scheme = m.group(1).lower()
        pos = m.end()
        params: dict[str, str] = {}
        while pos < len(header):
            p = _PARAM.match(header, pos)
            if not p:
                break
            quoted, bare = p.group(2), p.group(3)
            params[p.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            pos = p.end()
        out.append(Challenge(scheme, params))
        if pos < len(header) and header[pos] == ",":
            pos += 1
    return out
