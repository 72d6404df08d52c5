"""Host ports forwarded to pods (``--port``), claimed host-wide so two pods never share one.

A host port is one resource for the whole host, whichever data directory (``rkt --dir``) the
pod lives in: a second forward of the same port would be shadowed silently by the first one's
iptables rules. Each forwarded ``<protocol>/<port>`` is claimed by a file
``/run/rkt/net/ports/<protocol>-<port>`` holding ``{"uuid", "pod"}``, made under a flock; a claim
whose pod is gone from disk (see :func:`rkt.net.ipam.pod_exists`) is taken over, and a pod's
teardown releases its own claims only.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

from rkt.net.errors import NetworkError
from rkt.net.hostlock import locked
from rkt.net.ipam import pod_exists, read_record
from rkt_sdk.poddir import write_atomic

#: Host-wide directory of port claims.
CLAIMS_DIR = Path("/run/rkt/net/ports")


def claim_path(proto: str, port: int) -> Path:
    """The file claiming host port ``port``/``proto``."""
    return CLAIMS_DIR / f"{proto}-{port}"


def _holder(path: Path) -> dict[str, str] | None:
    info = read_record(path)
    return None if info is None else {k: str(v) for k, v in info.items()}


def _locked() -> AbstractContextManager[None]:
    return locked(CLAIMS_DIR)


def claim(proto: str, port: int, *, uuid: str, pod: Path) -> str:
    """Claim host port ``port``/``proto`` for the pod; the claim file's path (to record for release).

    :raises NetworkError: another pod still on disk forwards that port.
    """
    path = claim_path(proto, port)
    with _locked():
        held = _holder(path)
        if held is not None and held.get("uuid") != uuid and pod_exists(held.get("uuid", ""), held.get("pod", "")):
            raise NetworkError(f"--port: host port {port}/{proto} is already forwarded to pod "
                               f"{held.get('uuid') or '(unknown)'}")
        write_atomic(path, json.dumps({"uuid": uuid, "pod": str(pod)}) + "\n", 0o600)
    return str(path)


def release(path: str, uuid: str) -> None:
    """Drop a claim made by :func:`claim` if the pod still holds it."""
    p = Path(path)
    with _locked():
        held = _holder(p)
        if held is not None and held.get("uuid") == uuid:
            p.unlink(missing_ok=True)
