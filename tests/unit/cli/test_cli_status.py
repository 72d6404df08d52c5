"""``rkt status`` flags: a bare ``--wait`` does not swallow the UUID; bad values are rkt errors."""

from __future__ import annotations

import pytest

from rkt.cli import status
from rkt.cli.parser import parse_command
from rkt.cli.status import _wait_flag
from rkt_sdk.errors import RktError


def _parse(*argv: str):  # type: ignore[no-untyped-def]
    return parse_command("status", list(argv), status)


@pytest.mark.parametrize("argv, uuid, wait", [
    (("--wait", "1234abcd"), "1234abcd", "true"),
    (("1234abcd", "--wait"), "1234abcd", "true"),
    (("--wait=10s", "1234abcd"), "1234abcd", "10s"),
    (("1234abcd",), "1234abcd", "false"),
])
def test_wait_and_uuid(argv: tuple[str, ...], uuid: str, wait: str) -> None:
    ns = _parse(*argv)
    assert (ns.uuid, ns.wait) == (uuid, wait)
    assert vars(status.parse(list(argv))) == vars(ns), "the fast path reads what argparse reads"


def test_wait_values() -> None:
    assert _wait_flag("wait", "true") == -1.0
    assert _wait_flag("wait", "false") is None
    assert _wait_flag("wait", "1m") == 60.0
    with pytest.raises(RktError, match="--wait=soon"):
        _wait_flag("wait", "soon")
