"""The docker:// source against a real registry (Debian's docker-registry on loopback).

These talk the registry protocol through :class:`rkt.images.registry.DockerSource` directly:
manifests in OCI and Docker schema 2 form, indexes, blobs, errors, Basic and Bearer auth,
TLS, plain HTTP and proxies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rkt.images.reference import parse_source
from rkt.images.registry.errors import AuthError, ConnectError, ContentError, ManifestUnknown
from rkt.images.source import ImageSource, SourceOptions, open_source
from tests.support.forward_proxy import ForwardProxy
from tests.support.registry import Registry, running_registry
from tests.support.registry_images import layered_image, platform_index
from tests.support.registry_token import TokenService

pytestmark = pytest.mark.registry
HTTP = frozenset({"http"})


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials, proxies or CA of the machine's own reach these tests."""
    for k in list(os.environ):
        if k.lower().endswith("_proxy") or k in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG",
                                                 "SSL_CERT_FILE", "SSL_CERT_DIR"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("image")
    return layered_image(work, [{"/etc/one": b"1\n"}, {"/etc/two": b"2\n", "/etc/one": None}], busybox=True,
                         entrypoint=["/bin/sh"])


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, image: str) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("plain")) as reg:
        reg.push(image, "app/oci:1", fmt="oci")
        reg.push(image, "app/docker:1", fmt="v2s2")
        layout = Path(image.split(":")[1])
        layered_image(layout.parent, [{"/etc/arm": b"arm\n"}], tag="arm", layout=layout, arch="arm64")
        reg.push(platform_index(layout, {"latest": ("linux", "amd64"), "arm": ("linux", "arm64")}, "multi"),
                 "app/multi:1", all_images=True)
        yield reg


def docker_source(text: str, insecure: frozenset[str] = frozenset(), config_dirs: tuple[Path, ...] = ()) -> ImageSource:
    """The source ``rkt fetch TEXT`` opens."""
    ref = parse_source(text)
    assert ref is not None
    return open_source(ref, SourceOptions(insecure=insecure, config_dirs=config_dirs))


def _pull_all(ref: str, insecure: frozenset[str] = HTTP) -> tuple[str, dict[str, object]]:
    """Fetch the manifest and every blob, checking each against its digest; (media type, manifest)."""
    src = docker_source(ref, insecure=insecure)
    try:
        media_type, raw = src.fetch_manifest()
        m = json.loads(raw)
        if "layers" in m:
            for d in [m["config"], *m["layers"]]:
                with src.open_blob(d["digest"], d["size"]) as f:
                    data = f.read()
                assert "sha256:" + hashlib.sha256(data).hexdigest() == d["digest"]
        return media_type, m
    finally:
        src.close()


@pytest.mark.parametrize(("repo", "media_type"), [
    ("app/oci:1", "application/vnd.oci.image.manifest.v1+json"),
    ("app/docker:1", "application/vnd.docker.distribution.manifest.v2+json"),
])
def test_manifest_and_blobs_by_tag(plain: Registry, repo: str, media_type: str) -> None:
    got, m = _pull_all(plain.ref(repo))
    assert got == media_type
    layers = m["layers"]
    assert isinstance(layers, list) and len(layers) == 3  # busybox, one file, another and a whiteout


def test_debug_shows_each_request(plain: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    ref = parse_source(plain.ref("app/docker:1"))
    assert ref is not None
    src = open_source(ref, SourceOptions(insecure=HTTP, debug=True))
    src.fetch_manifest()
    src.close()
    assert capsys.readouterr().err.splitlines() == [
        f"GET http://{plain.host}/v2/: 200 OK",  # after HTTPS failed (no reply, so no line)
        f"GET http://{plain.host}/v2/app/docker/manifests/1: 200 OK"]


def test_by_digest(plain: Registry) -> None:
    src = docker_source(plain.ref("app/oci:1"), insecure=HTTP)
    _, raw = src.fetch_manifest()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    by_digest = docker_source(plain.ref(f"app/oci@{digest}"), insecure=HTTP)
    assert by_digest.fetch_manifest() == ("application/vnd.oci.image.manifest.v1+json", raw)
    assert src.fetch_manifest(digest)[1] == raw
    with pytest.raises(ManifestUnknown, match="manifest unknown"):
        src.fetch_manifest("sha256:" + "0" * 64)


def test_index_and_its_manifests(plain: Registry) -> None:
    src = docker_source(plain.ref("app/multi:1"), insecure=HTTP)
    media_type, raw = src.fetch_manifest()
    assert media_type == "application/vnd.oci.image.index.v1+json"
    platforms = {}
    for d in json.loads(raw)["manifests"]:
        mt, child = src.fetch_manifest(d["digest"])
        assert mt == "application/vnd.oci.image.manifest.v1+json"
        assert "sha256:" + hashlib.sha256(child).hexdigest() == d["digest"]
        platforms[d["platform"]["architecture"]] = d["digest"]
    assert set(platforms) == {"amd64", "arm64"}


@pytest.mark.parametrize(("repo", "reason"), [
    ("app/oci:nope", "manifest unknown (MANIFEST_UNKNOWN)"),
    ("no/such:1", "manifest unknown (MANIFEST_UNKNOWN)"),  # this registry says so for a repository too
])
def test_unknown_tag_or_repository(plain: Registry, repo: str, reason: str) -> None:
    ref = plain.ref(repo)
    with pytest.raises(ManifestUnknown) as e:
        docker_source(ref, insecure=HTTP).fetch_manifest()
    assert str(e.value) == f'image "{ref}": the registry says: {reason}'


def test_blob_size_differs_from_manifest(plain: Registry) -> None:
    src = docker_source(plain.ref("app/oci:1"), insecure=HTTP)
    d = json.loads(src.fetch_manifest()[1])["layers"][0]
    with pytest.raises(ContentError, match=rf"blob {d['digest']}: the registry sends {d['size']} bytes, "
                                           rf"the manifest says {d['size'] + 1}"):
        src.open_blob(d["digest"], d["size"] + 1)


def test_plain_http_needs_the_insecure_option(plain: Registry) -> None:
    ref = plain.ref("app/oci:1")
    with pytest.raises(ConnectError) as e:
        docker_source(ref).fetch_manifest()
    msg = str(e.value)
    assert msg.startswith(f'image "{ref}": TLS with {plain.host} failed (')
    assert msg.endswith("); a plain-HTTP registry needs --insecure-options=http")


def test_proxy_variables(plain: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = ForwardProxy()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        _pull_all(plain.ref("app/docker:1"))
        assert f"http://{plain.host}/v2/app/docker/manifests/1" in proxy.seen
        assert sum("/blobs/" in u for u in proxy.seen) == 4
        proxy.seen.clear()
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        _pull_all(plain.ref("app/docker:1"))
        assert proxy.seen == []
    finally:
        proxy.stop()


# -- TLS -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory, image: str) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("tls"), tls=True) as reg:
        reg.push(image, "app/tls:1")
        yield reg


def test_tls_with_a_trusted_ca(tls: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tls.tls is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.tls.ca))
    assert _pull_all(tls.ref("app/tls:1"), frozenset())[0] == "application/vnd.oci.image.manifest.v1+json"


def test_tls_with_the_hosts_own_ca_directory(tls: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rkt.images.registry import transport

    assert tls.tls is not None
    certs = tmp_path / "certs.d"
    (certs / tls.host).mkdir(parents=True)
    monkeypatch.setattr(transport, "CERTS_DIRS", (tmp_path / "none", certs))
    with pytest.raises(ConnectError, match="is not trusted"):
        _pull_all(tls.ref("app/tls:1"), frozenset())
    (certs / tls.host / "ca.crt").write_bytes(tls.tls.ca.read_bytes())
    assert _pull_all(tls.ref("app/tls:1"), frozenset())[0] == "application/vnd.oci.image.manifest.v1+json"


def test_tls_through_a_proxy(tls: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tls.tls is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.tls.ca))
    proxy = ForwardProxy()
    try:
        monkeypatch.setenv("https_proxy", proxy.url)
        _pull_all(tls.ref("app/tls:1"), frozenset())
        assert proxy.seen and set(proxy.seen) == {f"CONNECT {tls.host}"}  # tunnels only: TLS end to end
    finally:
        proxy.stop()


def test_tls_untrusted_certificate(tls: Registry) -> None:
    ref = tls.ref("app/tls:1")
    for insecure in (frozenset(), HTTP):
        with pytest.raises(ConnectError) as e:
            docker_source(ref, insecure=insecure).fetch_manifest()
        msg = str(e.value)
        assert msg.startswith(f'image "{ref}": the TLS certificate of {tls.host} is not trusted (')
        assert "certificate verify failed" in msg
        assert msg.endswith("; --insecure-options=tls skips certificate checks")
    _pull_all(ref, frozenset({"tls"}))


# -- Basic auth ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory, image: str) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("basic"), tls=True, users={"alice": "s3cret"}) as reg:
        reg.push(image, "app/private:1")
        yield reg


def _auth_file(path: Path, host: str, user: str, password: str) -> Path:
    path.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}))
    return path


def test_basic_auth(basic: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert basic.tls is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(basic.tls.ca))
    ref = basic.ref("app/private:1")
    with pytest.raises(AuthError) as e:
        docker_source(ref).fetch_manifest()
    assert str(e.value) == (f'image "{ref}": the registry needs a user name and password; configure them in a '
                            "dockerAuth config file, REGISTRY_AUTH_FILE or ~/.docker/config.json")
    bad = _auth_file(tmp_path / "bad.json", basic.host, "alice", "wrong")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(bad))
    with pytest.raises(AuthError) as e:
        docker_source(ref).fetch_manifest()
    assert str(e.value) == (f'image "{ref}": access denied to user "alice" (credentials from {bad}): '
                            "authentication required (UNAUTHORIZED)")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(_auth_file(tmp_path / "good.json", basic.host, "alice", "s3cret")))
    assert _pull_all(ref, frozenset())[0] == "application/vnd.oci.image.manifest.v1+json"


# -- Bearer tokens -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bearer(tmp_path_factory: pytest.TempPathFactory, image: str) -> Iterator[tuple[Registry, TokenService]]:
    work = tmp_path_factory.mktemp("bearer")
    tokens = TokenService(work / "tokens", users={"bob": "hunter2"}, public=("pub/app",),
                          refresh_tokens={"r3fresh": "bob"}).start()
    try:
        with running_registry(work / "registry", auth=tokens.registry_auth()) as reg:
            reg.push(image, "pub/app:1", creds="bob:hunter2")
            reg.push(image, "priv/app:1", creds="bob:hunter2")
            yield reg, tokens
    finally:
        tokens.stop()


def test_bearer_anonymous(bearer: tuple[Registry, TokenService]) -> None:
    reg, tokens = bearer
    tokens.requests.clear()
    _pull_all(reg.ref("pub/app:1"))
    assert tokens.requests == [{"user": None, "scope": ["repository:pub/app:pull"],
                                "service": ["rkt-test-registry"]}]
    ref = reg.ref("priv/app:1")
    with pytest.raises(AuthError) as e:
        docker_source(ref, insecure=HTTP).fetch_manifest()
    assert str(e.value).startswith(f'image "{ref}": access denied (authentication required (UNAUTHORIZED)); '
                                   "the registry may need credentials")


def test_bearer_with_credentials(bearer: tuple[Registry, TokenService], tmp_path: Path) -> None:
    reg, tokens = bearer
    conf = tmp_path / "etc"
    (conf / "auth.d").mkdir(parents=True)
    (conf / "auth.d" / "reg.json").write_text(json.dumps({
        "rktKind": "dockerAuth", "rktVersion": "v1", "registries": [reg.host],
        "credentials": {"user": "bob", "password": "hunter2"}}))
    src = docker_source(reg.ref("priv/app:1"), insecure=HTTP, config_dirs=(conf,))
    assert src.fetch_manifest()[0] == "application/vnd.oci.image.manifest.v1+json"
    assert tokens.requests[-1]["user"] == "bob"
    (conf / "auth.d" / "reg.json").write_text(json.dumps({
        "rktKind": "dockerAuth", "rktVersion": "v1", "registries": [reg.host],
        "credentials": {"user": "bob", "password": "wrong"}}))
    ref = reg.ref("priv/app:1")
    with pytest.raises(AuthError) as e:
        docker_source(ref, insecure=HTTP, config_dirs=(conf,)).fetch_manifest()
    assert str(e.value) == (f'image "{ref}": the registry\'s token service refused the credentials of user "bob" '
                            f"(from {conf / 'auth.d' / 'reg.json'}): invalid username or password")


# -- redirects to blob storage -------------------------------------------------------------------------
def test_redirect_to_another_host_drops_the_credentials(tmp_path: Path, image: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.registry_front import BlobRedirector

    with running_registry(tmp_path / "reg", users={"carol": "pw"}) as reg:
        reg.push(image, "app/redirected:1")
        front = BlobRedirector(reg)
        try:
            monkeypatch.setenv("REGISTRY_AUTH_FILE", str(_auth_file(tmp_path / "auth.json", front.host, "carol", "pw")))
            _pull_all(f"docker://{front.host}/app/redirected:1")
            assert len(front.blob_headers) == 4  # the config and three layers, all through the redirect
            assert not any(k.lower() == "authorization" for h in front.blob_headers for k in h)
        finally:
            front.stop()


def test_passing_server_trouble_is_tried_again(tmp_path: Path, image: str) -> None:
    from tests.support.registry_front import BlobRedirector

    with running_registry(tmp_path / "reg") as reg:
        reg.push(image, "app/flaky:1")
        front = BlobRedirector(reg, failures=2)
        try:
            _pull_all(f"docker://{front.host}/app/flaky:1")
            assert len(front.blob_headers) == 4 + 2 and front.failures == 0
        finally:
            front.stop()


def test_bearer_with_an_identity_token(bearer: tuple[Registry, TokenService], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    reg, tokens = bearer
    auth = tmp_path / "auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    auth.write_text(json.dumps({"auths": {reg.host: {"identitytoken": "r3fresh"}}}))
    _pull_all(reg.ref("priv/app:1"))
    assert tokens.requests[-1] == {"user": "bob", "scope": ["repository:priv/app:pull"],
                                   "service": ["rkt-test-registry"], "grant": ["refresh_token"]}
    auth.write_text(json.dumps({"auths": {reg.host: {"identitytoken": "stale"}}}))
    ref = reg.ref("priv/app:1")
    with pytest.raises(AuthError) as e:
        docker_source(ref, insecure=HTTP).fetch_manifest()
    assert str(e.value) == (f'image "{ref}": the registry\'s token service refused the identity token '
                            f"(from {auth}): invalid refresh token")
