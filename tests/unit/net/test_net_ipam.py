"""Native host-local IPAM: leases on disk, host-wide across data dirs, never handed out twice, released,
reclaimed only from deleted pods.

Each test keeps its leases under its own ``dataDir`` (the ipam key), so it never sees the host's leases.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from rkt.net import NetworkError, ipam
from tests.support.netstate import leases


def _conf(tmp_path: Path, **kw: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"type": "host-local", "subnet": "10.20.0.0/29", "routes": [{"dst": "0.0.0.0/0"}],
                            "dataDir": str(tmp_path / "leases")}
    conf.update(kw)
    return conf


def _pod(data: Path, uuid: str, state: str = "run") -> Path:
    """A pod directory as a data dir holds it: ``<data>/pods/<state>/<uuid>``."""
    p = data / "pods" / state / uuid
    p.mkdir(parents=True)
    return p


def test_allocation_skips_gateway_and_is_not_reused_while_held(tmp_path: Path) -> None:
    conf, data = _conf(tmp_path), tmp_path / "data"
    got = [ipam.allocate("n", conf, uuid=f"u{i}", pod=_pod(data, f"u{i}"), ifname="eth0") for i in range(5)]
    assert [g.ip for g in got] == ["10.20.0.2", "10.20.0.3", "10.20.0.4", "10.20.0.5", "10.20.0.6"]
    assert got[0].gateway == "10.20.0.1" and got[0].prefix_len == 29
    assert got[0].routes == (("0.0.0.0/0", "10.20.0.1"),)
    with pytest.raises(NetworkError, match="no free address"):
        ipam.allocate("n", conf, uuid="u9", pod=_pod(data, "u9"), ifname="eth0")
    d = ipam.lease_dir("n", conf)
    assert d == tmp_path / "leases" / "n"
    ipam.release(d, "u2")
    assert "10.20.0.4" not in leases(d)
    again = ipam.allocate("n", conf, uuid="u9", pod=data / "pods" / "run" / "u9", ifname="eth0")
    assert again.ip == "10.20.0.4"
    ipam.release(d, "u2")  # releasing twice, or what is not held, does nothing
    assert leases(d)["10.20.0.4"] == "u9"
    record = json.loads((d / "10.20.0.4").read_text())
    assert record == {"uuid": "u9", "pod": str(data / "pods" / "run" / "u9"), "ifName": "eth0"}


def test_two_data_dirs_share_the_leases_of_a_network(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    a = ipam.allocate("n", conf, uuid="a", pod=_pod(tmp_path / "data-a", "a"), ifname="eth0")
    b = ipam.allocate("n", conf, uuid="b", pod=_pod(tmp_path / "data-b", "b"), ifname="eth0")
    assert a.ip != b.ip
    assert leases(ipam.lease_dir("n", conf)) == {a.ip: "a", b.ip: "b"}


def test_default_lease_directory_is_host_wide() -> None:
    assert ipam.lease_dir("default", {"type": "host-local", "subnet": "172.16.28.0/24"}) == \
        Path("/var/lib/cni/networks/default")
    with pytest.raises(NetworkError, match="dataDir 'rel/dir' must be an absolute path"):
        ipam.lease_dir("n", {"dataDir": "rel/dir"})


def test_round_robin_does_not_reuse_a_freed_address_at_once(tmp_path: Path) -> None:
    conf, data = _conf(tmp_path), tmp_path / "data"
    a = ipam.allocate("n", conf, uuid="a", pod=_pod(data, "a"), ifname="eth0")
    ipam.release(ipam.lease_dir("n", conf), "a")
    b = ipam.allocate("n", conf, uuid="b", pod=_pod(data, "b"), ifname="eth0")
    assert a.ip != b.ip


def test_lease_of_a_deleted_pod_is_reclaimed_but_not_of_a_moved_one(tmp_path: Path) -> None:
    conf = _conf(tmp_path, subnet="10.21.0.0/24", rangeStart="10.21.0.5", rangeEnd="10.21.0.5")
    data = tmp_path / "data"
    gone = _pod(data, "gone-uuid")
    ipam.allocate("n", conf, uuid="gone-uuid", pod=gone, ifname="eth0")
    # the pod moved to another state directory of its data dir: still held
    gone.rmdir()
    (data / "pods" / "exited-garbage" / "gone-uuid").mkdir(parents=True)
    with pytest.raises(NetworkError, match="no free address"):
        ipam.allocate("n", conf, uuid="new", pod=_pod(tmp_path / "other-data", "new"), ifname="eth0")
    # deleted without teardown: the address can be handed out again, to a pod of any data dir
    (data / "pods" / "exited-garbage" / "gone-uuid").rmdir()
    got = ipam.allocate("n", conf, uuid="new", pod=tmp_path / "other-data" / "pods" / "run" / "new", ifname="eth0")
    assert got.ip == "10.21.0.5"
    assert leases(ipam.lease_dir("n", conf)) == {"10.21.0.5": "new"}


def test_a_file_that_is_not_our_record_is_never_taken(tmp_path: Path) -> None:
    conf = _conf(tmp_path, subnet="10.22.0.0/24", rangeStart="10.22.0.5", rangeEnd="10.22.0.6")
    d = ipam.lease_dir("n", conf)
    d.mkdir(parents=True)
    (d / "10.22.0.5").write_bytes(b"some-container-id\r\neth0")  # another allocator's lease
    got = ipam.allocate("n", conf, uuid="a", pod=_pod(tmp_path / "data", "a"), ifname="eth0")
    assert got.ip == "10.22.0.6"
    assert (d / "10.22.0.5").read_bytes() == b"some-container-id\r\neth0"
    ipam.release(d, "some-container-id")
    assert (d / "10.22.0.5").exists()


def test_requested_ip(tmp_path: Path) -> None:
    conf, data = _conf(tmp_path), tmp_path / "data"
    got = ipam.allocate("n", conf, uuid="a", pod=_pod(data, "a"), ifname="eth0", want="10.20.0.6")
    assert got.ip == "10.20.0.6"
    with pytest.raises(NetworkError, match="in use"):
        ipam.allocate("n", conf, uuid="b", pod=_pod(data, "b"), ifname="eth0", want="10.20.0.6")
    with pytest.raises(NetworkError, match="outside"):
        ipam.allocate("n", conf, uuid="b", pod=data / "pods" / "run" / "b", ifname="eth0", want="10.30.0.6")


@pytest.mark.parametrize("conf, fragment", [
    ({"type": "host-local"}, "bad or missing subnet"),
    ({"type": "host-local", "subnet": "fd00::/64"}, "IPv4 only"),
    ({"type": "host-local", "subnet": "10.0.0.0/24", "gateway": "10.1.0.1"}, "outside subnet"),
    ({"type": "host-local", "subnet": "10.0.0.0/24", "rangeStart": "10.0.0.9", "rangeEnd": "10.0.0.3"}, "after"),
])
def test_bad_ipam_config(tmp_path: Path, conf: dict[str, object], fragment: str) -> None:
    with pytest.raises(NetworkError, match=fragment):
        ipam.allocate("n", dict(conf, dataDir=str(tmp_path)), uuid="a", pod=tmp_path, ifname="eth0")


def test_ranges_form(tmp_path: Path) -> None:
    conf = {"type": "host-local", "ranges": [[{"subnet": "10.40.0.0/24", "rangeStart": "10.40.0.100"}]],
            "dataDir": str(tmp_path)}
    assert ipam.allocate("n", conf, uuid="a", pod=tmp_path, ifname="eth0").ip == "10.40.0.100"


def _grab(args: tuple[str, int]) -> str:
    tmp, i = args
    data = Path(tmp) / f"data-{i % 3}"  # three data dirs, one lease directory
    pod = data / "pods" / "run" / f"u{i}"
    pod.mkdir(parents=True, exist_ok=True)
    return ipam.allocate("n", {"type": "host-local", "subnet": "10.50.0.0/24", "dataDir": str(Path(tmp) / "leases")},
                         uuid=f"u{i}", pod=pod, ifname="eth0").ip


def test_concurrent_processes_of_several_data_dirs_never_share_an_address(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        ips = pool.map(_grab, [(str(tmp_path), i) for i in range(40)])
    assert len(set(ips)) == 40
