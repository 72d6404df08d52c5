"""Where registry credentials are found: rkt's dockerAuth config, then the containers and Docker files."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from rkt.images.registry.credentials import find_credentials
from rkt.images.registry.errors import AuthError


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_nothing_configured(home: Path) -> None:
    assert find_credentials("registry.example", "app") is None


def test_docker_config_and_hub_aliases(home: Path) -> None:
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": _auth("hubuser", "p1"), "registry.example:5000": _auth("u", "p:with:colons")}}))
    hub = find_credentials("docker.io", "library/busybox")
    assert hub is not None and (hub.user, hub.password) == ("hubuser", "p1")
    c = find_credentials("registry.example:5000", "app")
    assert c is not None and (c.user, c.password) == ("u", "p:with:colons")
    assert c.source == str(home / ".docker" / "config.json")
    assert find_credentials("registry.example", "app") is None


def test_containers_file_wins_and_longest_namespace(home: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {"r.example": _auth("docker", "x")}}))
    run = tmp_path / "run"
    (run / "containers").mkdir(parents=True)
    (run / "containers" / "auth.json").write_text(json.dumps({"auths": {
        "r.example": _auth("host", "1"), "r.example/team": _auth("team", "2")}}))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    got = find_credentials("r.example", "team/app")
    assert got is not None and got.user == "team"
    got = find_credentials("r.example", "other/app")
    assert got is not None and got.user == "host"
    explicit = tmp_path / "auth.json"
    explicit.write_text(json.dumps({"auths": {"r.example": _auth("explicit", "3")}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(explicit))
    got = find_credentials("r.example", "team/app")
    assert got is not None and got.user == "explicit"


def test_rkt_docker_auth_config_first(home: Path, tmp_path: Path) -> None:
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {"r.example": _auth("docker", "x")}}))
    conf = tmp_path / "etc"
    (conf / "auth.d").mkdir(parents=True)
    (conf / "auth.d" / "r.json").write_text(json.dumps({
        "rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["r.example", "registry-1.docker.io"],
        "credentials": {"user": "rktuser", "password": "pw"}}))
    got = find_credentials("r.example", "app", (tmp_path / "none", conf))
    assert got is not None
    assert (got.user, got.password, got.source) == ("rktuser", "pw", str(conf / "auth.d" / "r.json"))
    hub = find_credentials("docker.io", "library/busybox", (conf,))
    assert hub is not None and hub.user == "rktuser"


def test_identity_tokens(home: Path) -> None:
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {"r.example": {"identitytoken": "tok"}}}))
    got = find_credentials("r.example", "app")
    assert got is not None and (got.user, got.identity_token) == ("<token>", "tok")


def test_malformed_files_are_named(home: Path) -> None:
    (home / ".docker").mkdir(parents=True)
    cfg = home / ".docker" / "config.json"
    cfg.write_text("{not json")
    with pytest.raises(AuthError, match=rf"^{cfg}: invalid JSON"):
        find_credentials("r.example", "app")
    cfg.write_text(json.dumps({"auths": {"r.example": {"auth": "!!!"}}}))
    with pytest.raises(AuthError, match=r'"auth" is not base64 of user:password'):
        find_credentials("r.example", "app")


HELPER = """#!/bin/sh
read server
case "$server" in
  r.example) echo '{"ServerURL":"r.example","Username":"helped","Secret":"s3"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"hub","Username":"hubhelped","Secret":"s4"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refr"}' ;;
  broken.example) echo 'keychain locked' >&2; exit 3 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
"""


def test_credential_helpers(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-rkttest"
    helper.write_text(HELPER)
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"credHelpers": {"r.example": "rkttest", "broken.example": "rkttest",
                                               "token.example": "rkttest",
                                               "missing.example": "nothere"},
                               "auths": {"other.example": _auth("plain", "p")}, "credsStore": "rkttest"}))
    got = find_credentials("r.example", "app")
    assert got is not None
    assert (got.user, got.password, got.source) == ("helped", "s3", f"{cfg}, through docker-credential-rkttest")
    hub = find_credentials("docker.io", "library/busybox")  # through credsStore, asked as Docker asks
    assert hub is not None and (hub.user, hub.password) == ("hubhelped", "s4")
    token = find_credentials("token.example", "app")
    assert token is not None and (token.user, token.password, token.identity_token) == ("<token>", "", "refr")
    plain = find_credentials("other.example", "app")
    assert plain is not None and plain.user == "plain"
    assert find_credentials("nobody.example", "app") is None
    with pytest.raises(AuthError, match=r'credential helper "docker-credential-rkttest" failed for broken.example: '
                                        r"keychain locked$"):
        find_credentials("broken.example", "app")
    assert find_credentials("missing.example", "app") is None
    assert capsys.readouterr().err == (f'warning: {cfg}: credential helper "docker-credential-nothere" is not '
                                       "installed (not found in PATH); going on without credentials\n")
