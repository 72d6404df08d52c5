"""rkt_sdk.linux.caps: names and masks, and capability sets applied to a real process."""

from __future__ import annotations

import pytest

from rkt_sdk.linux import caps
from tests.unit.linux.conftest import in_child


def test_names_and_masks_round_trip() -> None:
    m = caps.mask(["CAP_CHOWN", "kill", "cap_sys_admin"])
    assert m == (1 << 0) | (1 << 5) | (1 << 21)
    assert caps.names(m) == ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"]
    assert caps.mask(caps.DEFAULT_RETAIN) == 0xA80425FB


def test_unknown_capability_is_named() -> None:
    with pytest.raises(caps.CapabilityError, match="CAP_FLY"):
        caps.mask(["CAP_FLY"])


def test_parse_status() -> None:
    text = "Name:\tx\nCapInh:\t0000000000000001\nCapPrm:\t0000000000000003\nCapEff:\t0000000000000002\n" \
           "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n"
    pc = caps.parse_status(text)
    assert (pc.inheritable, pc.permitted, pc.effective, pc.ambient) == (1, 3, 2, 0)
    assert pc.bounding == (1 << 41) - 1


@pytest.mark.usefixtures("root_only")
def test_apply_leaves_exactly_the_set() -> None:
    keep = caps.mask(["CAP_CHOWN", "CAP_KILL", "CAP_SETPCAP"])

    def child() -> list[int]:
        caps.apply(keep)
        with open("/proc/self/status") as f:
            pc = caps.parse_status(f.read())
        return [pc.effective, pc.permitted, pc.inheritable, pc.bounding, pc.ambient]

    assert in_child(child) == (0, [keep, keep, keep, keep, 0])


@pytest.mark.usefixtures("root_only")
def test_a_dropped_capability_cannot_be_regained() -> None:
    def child() -> str:
        caps.apply(caps.mask(["CAP_KILL"]))
        try:
            caps.capset(caps.mask(["CAP_SYS_ADMIN"]), caps.mask(["CAP_SYS_ADMIN"]), 0)
        except caps.CapabilityError as e:
            return str(e)
        return "regained"

    _, msg = in_child(child)
    assert "Operation not permitted" in msg
