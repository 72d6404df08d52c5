"""rkt_sdk.stopsignal: the signal an app's image names for stopping it, as a signal and as a number."""

from __future__ import annotations

import signal

import pytest

from rkt_sdk.appc import KV, App, ImageRef, RuntimeApp
from rkt_sdk.stopsignal import STOP_SIGNAL, parse_signal, stop_signal, stop_signal_number


def _app(*annotations: tuple[str, str]) -> RuntimeApp:
    return RuntimeApp("a", ImageRef("example.com/x", "sha512-0"), App(exec=("/bin/true",)),
                      annotations=tuple(KV(k, v) for k, v in annotations))


@pytest.mark.parametrize(("text", "expected"), [("SIGUSR1", signal.SIGUSR1), ("usr1", signal.SIGUSR1),
                                                ("3", signal.SIGQUIT), ("NOPE", None), ("999", None)])
def test_parse_signal(text: str, expected: signal.Signals | None) -> None:
    assert parse_signal(text) == expected


def test_the_stop_signal_and_its_number_agree() -> None:
    cases = [(_app(), signal.SIGTERM), (_app((STOP_SIGNAL, "SIGQUIT")), signal.SIGQUIT),
             (_app(("other", "SIGQUIT")), signal.SIGTERM), (_app((STOP_SIGNAL, "bogus")), signal.SIGTERM),
             (_app((STOP_SIGNAL, "10")), signal.SIGUSR1)]
    for app, expected in cases:
        assert stop_signal(app) is expected
        assert stop_signal_number(app) == int(expected)
        assert type(stop_signal_number(app)) is int
