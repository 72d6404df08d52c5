"""Durations, times and tables as rkt's commands parse and print them."""

from __future__ import annotations

import argparse
import time

import pytest

from rkt.cli import table, timefmt
from rkt.cli.parser import duration


@pytest.mark.parametrize("text, seconds", [("0", 0.0), ("0s", 0.0), ("10s", 10.0), ("500ms", 0.5),
                                           ("1h30m", 5400.0), ("24h0m0s", 86400.0)])
def test_duration(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "10", "1x", "s10", "-5s"])
def test_bad_duration(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=text):
        duration(text)


def test_relative_time() -> None:
    now = 1_000_000.0
    ns = int(now * 1e9)
    assert timefmt.relative(ns, now) == "0 seconds ago"
    assert timefmt.relative(ns - 1_000_000_000, now) == "1 second ago"
    assert timefmt.relative(ns - 125 * 1_000_000_000, now) == "2 minutes ago"
    assert timefmt.relative(ns - 3 * 86400 * 1_000_000_000, now) == "3 days ago"
    assert timefmt.relative(0) == ""


def test_absolute_time_has_milliseconds_and_zone() -> None:
    ns = int(time.mktime((2016, 5, 30, 13, 9, 44, 0, 0, -1))) * 1_000_000_000 + 634_000_000
    text = timefmt.absolute(ns)
    assert text.startswith("2016-05-30 13:09:44.634 ")
    assert text.split(" ")[2][0] in "+-"


def test_table_aligns_columns_without_trailing_spaces() -> None:
    out = table.render([["UUID", "APP", "STATE"], ["abcd", "busybox", "running"], ["ef", "x", ""]])
    assert out == "UUID APP     STATE\nabcd busybox running\nef   x\n"
