"""``rkt status`` flags: a bare ``--wait`` does not swallow the UUID; bad values are rkt errors."""

from __future__ import annotations

import pytest

from rkt.cli.parser import make_parser
from rkt.cli.status import _bare_flags_take_no_uuid, _wait_flag, add_arguments
from rkt_sdk.errors import RktError


def _parse(*argv: str):  # type: ignore[no-untyped-def]
    p = make_parser("rkt status", "")
    add_arguments(p, "status")
    ns = p.parse_args(list(argv))
    _bare_flags_take_no_uuid(ns)
    return ns


@pytest.mark.parametrize("argv, uuid, wait", [
    (("--wait", "1234abcd"), "1234abcd", "true"),
    (("1234abcd", "--wait"), "1234abcd", "true"),
    (("--wait=10s", "1234abcd"), "1234abcd", "10s"),
    (("1234abcd",), "1234abcd", "false"),
])
def test_wait_and_uuid(argv: tuple[str, ...], uuid: str, wait: str) -> None:
    ns = _parse(*argv)
    assert (ns.uuid, ns.wait) == (uuid, wait)


def test_wait_values() -> None:
    assert _wait_flag("wait", "true") == -1.0
    assert _wait_flag("wait", "false") is None
    assert _wait_flag("wait", "1m") == 60.0
    with pytest.raises(RktError, match="--wait=soon"):
        _wait_flag("wait", "soon")
