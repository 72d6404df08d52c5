"""Memory and CPU quantities (rkt_sdk.quantities)."""

from __future__ import annotations

import pytest

from rkt_sdk.quantities import QuantityError, parse_cpu, parse_memory


@pytest.mark.parametrize(("text", "want"), [("64M", 64_000_000), ("64Mi", 64 * 2**20), ("1G", 10**9),
                                            ("1.5Gi", 3 * 2**29), ("4096", 4096), (123, 123)])
def test_parse_memory(text: str | int, want: int) -> None:
    assert parse_memory(text) == want


@pytest.mark.parametrize(("text", "want"), [("500m", 500), ("2", 2000), ("0.25", 250), (1, 1000)])
def test_parse_cpu(text: str | int, want: int) -> None:
    assert parse_cpu(text) == want


@pytest.mark.parametrize("bad", ["lots", "-5M", "0", "12Q"])
def test_bad_quantities_are_named(bad: str) -> None:
    with pytest.raises(QuantityError, match=bad):
        parse_memory(bad)
