"""rkt_sdk.contract.unenforced_isolators: a flag's isolator the flavor does not claim is refused, an image's warned."""

from __future__ import annotations

import json
from typing import Any

from rkt_sdk.appc import PodManifest
from rkt_sdk.contract import unenforced_isolators

MEM = {"name": "resource/memory", "value": {"limit": "64M"}}
NNP = {"name": "os/linux/no-new-privileges", "value": True}


def _pod(app_isolators: list[dict[str, Any]], pod_isolators: list[dict[str, Any]] | None = None) -> PodManifest:
    return PodManifest.from_json(json.dumps({
        "acKind": "PodManifest", "acVersion": "0.8.11",
        "apps": [{"name": "a", "image": {"name": "example.com/a", "id": "sha512-" + "0" * 128},
                  "app": {"exec": ["/bin/true"], "user": "0", "group": "0", "isolators": app_isolators}}],
        "isolators": pod_isolators or []}).encode())


def test_claimed_isolators_pass() -> None:
    assert unenforced_isolators("f", {"resource/memory"}, _pod([MEM]), {}) == (None, [])


def test_a_flags_isolator_not_claimed_is_refused_naming_the_flag() -> None:
    why, warnings = unenforced_isolators("fly", set(), _pod([MEM]), {"a": []})
    assert why is not None and "--memory (resource/memory)" in why and "fly flavor does not enforce" in why
    assert warnings == []


def test_an_images_own_isolator_is_a_warning() -> None:
    why, warnings = unenforced_isolators("fly", set(), _pod([MEM, NNP]), {"a": [MEM, NNP]})
    assert why is None
    assert len(warnings) == 2 and "from its image" in warnings[0]
    assert "isolator os/linux/no-new-privileges" in warnings[1]


def test_a_flag_changing_an_images_isolator_is_refused() -> None:
    why, _ = unenforced_isolators("fly", set(), _pod([{"name": "resource/memory", "value": {"limit": "32M"}}]),
                                  {"a": [MEM]})
    assert why is not None and "--memory" in why


def test_a_pod_level_isolator_not_claimed_is_refused() -> None:
    why, _ = unenforced_isolators("fly", set(), _pod([], [MEM]), {})
    assert why is not None and why.startswith("pod manifest:")


def test_the_kit_finds_a_pods_veth_peers() -> None:
    from rkt_sdk.conformance.driver import Result
    from rkt_sdk.conformance.test_contract import _peer_indexes

    out = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\\    link/loopback 00:00:00:00:00:00\n"
           "2: eth0@if951: <BROADCAST,MULTICAST,UP> mtu 1500\\    link/ether a2:89:4d:e7:77:94\n"
           "3: eth1@if7: <BROADCAST> mtu 1500\n")
    assert _peer_indexes(Result((), 0, out, "")) == {951, 7}
