"""Native host-local IPAM: leases on disk, never handed out twice, released, reclaimed only from deleted pods."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from rkt.net import NetworkError, ipam

IPAM = {"type": "host-local", "subnet": "10.20.0.0/29", "routes": [{"dst": "0.0.0.0/0"}]}


def _pod(tmp_path: Path, name: str) -> Path:
    p = tmp_path / "pods" / name
    p.mkdir(parents=True)
    return p


def test_allocation_skips_gateway_and_is_not_reused_while_held(tmp_path: Path) -> None:
    data = tmp_path / "data"
    got = [ipam.allocate(data, "n", IPAM, uuid=f"u{i}", pod=_pod(tmp_path, f"p{i}"), ifname="eth0")
           for i in range(5)]
    assert [g.ip for g in got] == ["10.20.0.2", "10.20.0.3", "10.20.0.4", "10.20.0.5", "10.20.0.6"]
    assert got[0].gateway == "10.20.0.1" and got[0].prefix_len == 29
    assert got[0].routes == (("0.0.0.0/0", "10.20.0.1"),)
    with pytest.raises(NetworkError, match="no free address"):
        ipam.allocate(data, "n", IPAM, uuid="u9", pod=_pod(tmp_path, "p9"), ifname="eth0")
    ipam.release(data, "n", "u2")
    assert "10.20.0.4" not in ipam.leases(data, "n")
    again = ipam.allocate(data, "n", IPAM, uuid="u9", pod=tmp_path / "pods" / "p9", ifname="eth0")
    assert again.ip == "10.20.0.4"
    ipam.release(data, "n", "u2")  # releasing twice, or what is not held, does nothing
    assert ipam.leases(data, "n")["10.20.0.4"] == "u9"


def test_round_robin_does_not_reuse_a_freed_address_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = ipam.allocate(data, "n", IPAM, uuid="a", pod=_pod(tmp_path, "a"), ifname="eth0")
    ipam.release(data, "n", "a")
    b = ipam.allocate(data, "n", IPAM, uuid="b", pod=_pod(tmp_path, "b"), ifname="eth0")
    assert a.ip != b.ip


def test_lease_of_a_deleted_pod_is_reclaimed_but_not_of_a_moved_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ipam_one = {"type": "host-local", "subnet": "10.21.0.0/24", "rangeStart": "10.21.0.5", "rangeEnd": "10.21.0.5"}
    gone = _pod(tmp_path, "gone")
    ipam.allocate(data, "n", ipam_one, uuid="gone-uuid", pod=gone, ifname="eth0")
    # the pod moved to another state directory of the data dir: still held
    gone.rmdir()
    (data / "pods" / "exited-garbage" / "gone-uuid").mkdir(parents=True)
    with pytest.raises(NetworkError, match="no free address"):
        ipam.allocate(data, "n", ipam_one, uuid="new", pod=_pod(tmp_path, "new"), ifname="eth0")
    # deleted without teardown: the address can be handed out again
    (data / "pods" / "exited-garbage" / "gone-uuid").rmdir()
    got = ipam.allocate(data, "n", ipam_one, uuid="new", pod=tmp_path / "pods" / "new", ifname="eth0")
    assert got.ip == "10.21.0.5"


def test_requested_ip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    got = ipam.allocate(data, "n", IPAM, uuid="a", pod=_pod(tmp_path, "a"), ifname="eth0", want="10.20.0.6")
    assert got.ip == "10.20.0.6"
    with pytest.raises(NetworkError, match="in use"):
        ipam.allocate(data, "n", IPAM, uuid="b", pod=_pod(tmp_path, "b"), ifname="eth0", want="10.20.0.6")
    with pytest.raises(NetworkError, match="outside"):
        ipam.allocate(data, "n", IPAM, uuid="b", pod=tmp_path / "pods" / "b", ifname="eth0", want="10.30.0.6")


@pytest.mark.parametrize("conf, fragment", [
    ({"type": "host-local"}, "bad or missing subnet"),
    ({"type": "host-local", "subnet": "fd00::/64"}, "IPv4 only"),
    ({"type": "host-local", "subnet": "10.0.0.0/24", "gateway": "10.1.0.1"}, "outside subnet"),
    ({"type": "host-local", "subnet": "10.0.0.0/24", "rangeStart": "10.0.0.9", "rangeEnd": "10.0.0.3"}, "after"),
])
def test_bad_ipam_config(tmp_path: Path, conf: dict[str, object], fragment: str) -> None:
    with pytest.raises(NetworkError, match=fragment):
        ipam.allocate(tmp_path, "n", conf, uuid="a", pod=tmp_path, ifname="eth0")


def test_ranges_form(tmp_path: Path) -> None:
    conf = {"type": "host-local", "ranges": [[{"subnet": "10.40.0.0/24", "rangeStart": "10.40.0.100"}]]}
    assert ipam.allocate(tmp_path, "n", conf, uuid="a", pod=tmp_path, ifname="eth0").ip == "10.40.0.100"


def _grab(args: tuple[str, int]) -> str:
    data, i = args
    pod = Path(data) / "pods" / "run" / f"u{i}"
    pod.mkdir(parents=True, exist_ok=True)
    return ipam.allocate(Path(data), "n", {"type": "host-local", "subnet": "10.50.0.0/24"}, uuid=f"u{i}",
                         pod=pod, ifname="eth0").ip


def test_concurrent_processes_never_share_an_address(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        ips = pool.map(_grab, [(str(tmp_path), i) for i in range(40)])
    assert len(set(ips)) == 40
