"""Reading what registries send: authentication challenges and error bodies."""

from __future__ import annotations

import pytest

from rkt.images.registry.challenge import Challenge, parse_challenges
from rkt.images.registry.errors import registry_reason


def test_bearer_challenge() -> None:
    h = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'
    assert parse_challenges(h) == [Challenge("bearer", {"realm": "https://auth.example/token",
                                                        "service": "registry.example",
                                                        "scope": "repository:a/b:pull"})]


def test_several_challenges_and_escapes() -> None:
    h = 'Basic realm="a \\"quoted\\" realm", charset=UTF-8, Bearer realm="https://t/x",error="invalid_token"'
    assert parse_challenges(h) == [Challenge("basic", {"realm": 'a "quoted" realm', "charset": "UTF-8"}),
                                   Challenge("bearer", {"realm": "https://t/x", "error": "invalid_token"})]


@pytest.mark.parametrize(("status", "body", "want"), [
    (404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}',
     "manifest unknown (MANIFEST_UNKNOWN)"),
    (404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"},'
          b'{"code":"X","message":"two\\nlines"}]}',
     "repository name not known to registry (NAME_UNKNOWN); two lines (X)"),
    (401, b'{"details":"invalid username or password"}', "invalid username or password"),
    (502, b"<html>bad gateway</html>", "HTTP 502 Bad Gateway"),
    (599, b"", "HTTP 599 error"),
])
def test_registry_reason(status: int, body: bytes, want: str) -> None:
    assert registry_reason(status, body) == want
