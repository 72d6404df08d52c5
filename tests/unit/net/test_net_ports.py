"""Host port claims: one pod per host port across data dirs, stale claims taken over, only one's own released.

Claims are kept in a directory of the test's own (the module's host-wide directory is swapped for it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rkt.net import NetworkError, ports


@pytest.fixture(autouse=True)
def claims_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "claims"
    monkeypatch.setattr(ports, "CLAIMS_DIR", d)
    return d


def holder(proto: str, port: int) -> str:
    """The UUID of the pod the claim of ``port``/``proto`` names (``""`` when unclaimed)."""
    try:
        return str(json.loads(ports.claim_path(proto, port).read_bytes()).get("uuid", ""))
    except FileNotFoundError:
        return ""


def _pod(tmp_path: Path, data: str, uuid: str) -> Path:
    p = tmp_path / data / "pods" / "run" / uuid
    p.mkdir(parents=True)
    return p


def test_a_port_claimed_by_a_pod_of_one_data_dir_is_refused_to_another(tmp_path: Path) -> None:
    path = ports.claim("tcp", 8080, uuid="a", pod=_pod(tmp_path, "data-a", "a"))
    assert holder("tcp", 8080) == "a"
    with pytest.raises(NetworkError, match="host port 8080/tcp is already forwarded to pod a"):
        ports.claim("tcp", 8080, uuid="b", pod=_pod(tmp_path, "data-b", "b"))
    assert ports.claim("udp", 8080, uuid="b", pod=tmp_path / "data-b" / "pods" / "run" / "b")
    ports.release(path, "b")  # not b's: kept
    assert holder("tcp", 8080) == "a"
    ports.release(path, "a")
    assert holder("tcp", 8080) == ""
    assert ports.claim("tcp", 8080, uuid="b", pod=tmp_path / "data-b" / "pods" / "run" / "b") == path


def test_the_claim_of_a_deleted_pod_is_taken_over(tmp_path: Path) -> None:
    gone = _pod(tmp_path, "data-a", "a")
    ports.claim("tcp", 9090, uuid="a", pod=gone)
    gone.rmdir()
    ports.claim("tcp", 9090, uuid="b", pod=_pod(tmp_path, "data-b", "b"))
    assert holder("tcp", 9090) == "b"
