"""``rkt fetch https://host/app.aci``: ACIs over HTTP(S), with ETag and Cache-Control as rkt used them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import Rkt
from tests.support.aci import build_aci
from tests.support.aci_server import AciServer
from tests.support.registry_tls import TlsFiles, make_tls

pytestmark = pytest.mark.registry


def _errors(err: str) -> list[str]:
    """stderr without the download progress lines."""
    return [ln for ln in err.splitlines() if not ln.startswith("Download")]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def env(tls: TlsFiles) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    e["SSL_CERT_FILE"] = str(tls.ca)
    return e


@pytest.fixture
def server(tls: TlsFiles, tmp_path: Path) -> Iterator[AciServer]:
    s = AciServer(tls)
    s.files["/app.aci"] = build_aci(tmp_path / "app.aci", name="example.com/https-app", compression="gz").read_bytes()
    yield s
    s.stop()


def test_fetched_once_then_from_the_store(rkt: Rkt, server: AciServer, env: dict[str, str]) -> None:
    url = server.base + "/app.aci"
    first = rkt("fetch", "--full", url, env=env)
    assert first.code == 0, first
    image_id = first.out.strip()
    assert image_id.startswith("sha512-")
    progress = first.err.splitlines()  # not a terminal: one line as the download starts, one when done
    assert progress[0] == f"Downloading app.aci ({len(server.files['/app.aci']) / 1024:.1f} KiB) of {url}", first
    assert progress[1].startswith("Downloaded app.aci ("), first
    again = rkt("fetch", "--full", url, env=env)
    assert (again.code, again.out.strip()) == (0, image_id), again
    assert server.of("/app.aci") == [200]  # pull policy "new": the store has it, nothing asked
    listed = rkt("image", "list", env=env)
    assert "example.com/https-app" in listed.out


def test_update_asks_with_the_etag(rkt: Rkt, server: AciServer, env: dict[str, str], tmp_path: Path) -> None:
    url = server.base + "/app.aci"
    image_id = rkt("fetch", "--full", url, env=env).out.strip()
    for _ in range(2):
        r = rkt("fetch", "--full", "--pull-policy=update", url, env=env)
        assert (r.code, r.out.strip()) == (0, image_id), r
    assert server.of("/app.aci") == [200, 304, 304]
    assert server.downloads("/app.aci") == 1
    server.files["/app.aci"] = build_aci(tmp_path / "v2.aci", name="example.com/https-app", version="2.0").read_bytes()
    r = rkt("fetch", "--full", "--pull-policy=update", url, env=env)
    assert r.code == 0 and r.out.strip() != image_id, r
    assert server.downloads("/app.aci") == 2


def test_max_age_spares_the_request(rkt: Rkt, tls: TlsFiles, env: dict[str, str], tmp_path: Path) -> None:
    server = AciServer(tls, cache_control="public, max-age=3600")
    try:
        server.files["/app.aci"] = build_aci(tmp_path / "app.aci").read_bytes()
        url = server.base + "/app.aci"
        assert rkt("fetch", url, env=env).code == 0
        r = rkt("fetch", "--pull-policy=update", url, env=env)
        assert r.code == 0, r
        assert server.of("/app.aci") == [200]
    finally:
        server.stop()


def test_errors(rkt: Rkt, server: AciServer, env: dict[str, str]) -> None:
    missing = server.base + "/missing.aci"
    r = rkt("fetch", missing, env=env)
    assert (r.code, r.out) == (254, ""), r
    assert r.err == f'fetch: image "{missing}": the server answered HTTP 404 Not Found\n'
    url = server.base + "/app.aci"
    untrusted = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
    r = rkt("fetch", url, env=untrusted)
    assert r.code == 254, r
    assert r.err.startswith(f'fetch: image "{url}": the TLS certificate of 127.0.0.1:')
    assert r.err.endswith("; --insecure-options=tls skips certificate checks\n")
    assert rkt("--insecure-options=tls", "fetch", url, env=untrusted).code == 0
    assert rkt("image", "list", "--no-legend", env=env).out.count("example.com/https-app") == 1


def test_plain_http_needs_the_insecure_option(rkt: Rkt, tmp_path: Path, env: dict[str, str]) -> None:
    server = AciServer()
    try:
        server.files["/app.aci"] = build_aci(tmp_path / "app.aci").read_bytes()
        url = server.base + "/app.aci"
        r = rkt("fetch", url, env=env)
        assert (r.code, r.err) == (254, f'fetch: image "{url}": plain HTTP is not allowed; '
                                        "--insecure-options=http allows it\n"), r
        assert server.log == []
        r = rkt("--insecure-options=http", "fetch", url, env=env)
        assert r.code == 0, r
    finally:
        server.stop()


def test_a_broken_download_stores_nothing(rkt: Rkt, server: AciServer, env: dict[str, str]) -> None:
    url = server.base + "/app.aci"
    server.files["/app.aci"] = server.files["/app.aci"][:-4096]
    r = rkt("fetch", url, env=env)
    assert r.code == 254, r
    assert _errors(r.err) == [f'fetch: image "{url}": compressed stream is truncated'], r
    assert rkt("image", "list", "--no-legend", env=env).out == ""
    store = rkt.data / "cas"
    for d in ("blobs", "trees", "remote"):
        assert not (store / d).exists() or not list((store / d).iterdir()), d
    server.files["/app.aci"] = build_aci(store.parent / "good.aci").read_bytes()
    rkt.run_ok("fetch", url, env=env)
    for d in ("blobs", "trees", "remote"):
        assert len(list((store / d).iterdir())) == 1, d


def test_signature_beside_the_url(rkt: Rkt, server: AciServer, env: dict[str, str], tmp_path: Path) -> None:
    from tests.support.gpg import GpgHome

    rkt.insecure_image = False  # this test checks signatures
    home = GpgHome(tmp_path / "gnupg")
    try:
        signer, stranger = home.new_key("Signer <s@example.com>"), home.new_key("Stranger <x@example.org>")
        aci = tmp_path / "signed.aci"
        aci.write_bytes(server.files["/app.aci"])
        server.files["/app.aci.asc"] = stranger.sign(aci, tmp_path / "stranger.asc").read_bytes()
        conf = ("--local-config", str(tmp_path / "etc"))
        r = rkt(*conf, "trust", "--prefix=example.com/https-app", "--skip-fingerprint-review", str(signer.public),
                env=env)
        assert r.code == 0, r
        url = server.base + "/app.aci"
        r = rkt(*conf, "fetch", url, env=env)
        assert r.code == 254 and len(_errors(r.err)) == 1, r
        assert f'image "{url}" (example.com/https-app): signed by a key that is not trusted' in r.err
        assert rkt("image", "list", "--no-legend", env=env).out == ""
        server.files["/app.aci.asc"] = signer.sign(aci).read_bytes()
        r = rkt(*conf, "fetch", url, env=env)
        assert r.code == 0 and "verified: signed by Signer" in r.err, r
        assert ("/app.aci.asc", 200) in server.log
        server.files["/app.aci"] = build_aci(tmp_path / "v2.aci", name="example.com/https-app",
                                             version="2.0").read_bytes()
        r = rkt(*conf, "--insecure-options=image", "fetch", "--pull-policy=update", url, env=env)
        assert r.code == 0 and "signature verification is disabled" in r.err, r
    finally:
        home.close()


def test_a_tampered_download_is_refused_and_stores_nothing(rkt: Rkt, server: AciServer, env: dict[str, str],
                                                          tmp_path: Path) -> None:
    """The check reads the download as it streams: a large image altered in the middle is refused."""
    from tests.support.gpg import GpgHome

    rkt.insecure_image = False  # this test checks signatures
    home = GpgHome(tmp_path / "gnupg")
    try:
        signer = home.new_key("Signer <s@example.com>")
        aci = build_aci(tmp_path / "big.aci", name="example.com/https-app",
                        files={"/data/blob": os.urandom(6 << 20)})  # more than gpgv is handed at once
        server.files["/app.aci.asc"] = signer.sign(aci).read_bytes()
        good = aci.read_bytes()
        at = good.index(b"data/blob") + 4096
        server.files["/app.aci"] = good[:at] + bytes([good[at] ^ 1]) + good[at + 1:]
        conf = ("--local-config", str(tmp_path / "etc"))
        r = rkt(*conf, "trust", "--prefix=example.com/https-app", "--skip-fingerprint-review", str(signer.public),
                env=env)
        assert r.code == 0, r
        url = server.base + "/app.aci"
        r = rkt(*conf, "fetch", url, env=env)
        assert r.code == 254 and len(_errors(r.err)) == 1, r
        assert f'image "{url}" (example.com/https-app): the signature does not match the image' in r.err, r
        store = rkt.data / "store"
        assert not any((store / d).exists() and any((store / d).iterdir()) for d in ("blobs", "trees", "signatures"))
        server.files["/app.aci"] = good
        r = rkt(*conf, "fetch", url, env=env)
        assert r.code == 0 and "verified: signed by Signer" in r.err, r
    finally:
        home.close()


@pytest.mark.parametrize(("kind", "credentials", "header"), [
    ("basic", {"user": "me", "password": "pw"}, "Basic bWU6cHc="),
    ("oauth", {"token": "t0ken"}, "Bearer t0ken"),
])
def test_credentials_from_the_auth_config(rkt: Rkt, tls: TlsFiles, env: dict[str, str], tmp_path: Path,
                                          kind: str, credentials: dict[str, str], header: str) -> None:
    import json

    server = AciServer(tls, authorization=header)
    try:
        server.files["/app.aci"] = build_aci(tmp_path / "app.aci").read_bytes()
        url = server.base + "/app.aci"
        r = rkt("fetch", url, env=env)
        assert (r.code, _errors(r.err)) == (254, [f'fetch: image "{url}": the server answered HTTP 401 '
                                                  "Unauthorized; credentials for its host go in an auth config "
                                                  "(auth.d)"]), r
        conf = tmp_path / "etc"
        (conf / "auth.d").mkdir(parents=True)
        (conf / "auth.d" / "host.json").write_text(json.dumps({
            "rktKind": "auth", "rktVersion": "v1", "domains": [server.base.partition("://")[2]], "type": kind,
            "credentials": credentials}))
        rkt.run_ok(f"--local-config={conf}", "fetch", url, env=env)
        assert server.of("/app.aci")[-1] == 200
    finally:
        server.stop()
