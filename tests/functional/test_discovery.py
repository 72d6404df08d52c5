"""appc discovery: images and keys found by name over HTTPS, served by the test in its own namespace."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import Result, Rkt
from tests.support.aci import tiny_aci
from tests.support.discovery import DiscoveryHost, meta_page
from tests.support.gpg import GpgHome, Key

pytestmark = pytest.mark.slow
TEMPLATE = "https://example.com/images/{name}-{version}-{os}-{arch}.{ext}"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Key]:
    home = GpgHome(tmp_path_factory.mktemp("gnupg"))
    yield home.new_key("App Publisher <publisher@example.com>")
    home.close()


@pytest.fixture
def host(tmp_path: Path, key: Key) -> Iterator[DiscoveryHost]:
    """example.com serving example.com/app v1.0 (signed by ``key``) and its public key."""
    h = DiscoveryHost(tmp_path / "discovery", ("example.com",))
    try:
        h.put("app", meta_page(("ac-discovery", "example.com/app", TEMPLATE),
                               ("ac-discovery-pubkeys", "example.com/app", "https://example.com/pubkeys.gpg")))
        h.put("pubkeys.gpg", key.public.read_bytes())
        aci = tiny_aci(h.root / "images/example.com/app-v1.0-linux-amd64.aci", "example.com/app", "v1.0")
        key.sign(aci)
        yield h
    finally:
        h.close()


class InNs:
    """``rkt`` with this test's config dirs, run inside the discovery namespace."""

    def __init__(self, rkt: Rkt, host: DiscoveryHost, conf: Path) -> None:
        rkt.insecure_image = False
        self.rkt, self.host, self.conf = rkt, host, conf

    def __call__(self, *args: str, ca: bool = True) -> Result:
        argv = self.host.argv(*self.rkt.argv((f"--local-config={self.conf}/local",
                                               f"--system-config={self.conf}/system", *args)))
        env = self.host.env if ca else {k: v for k, v in self.host.env.items() if k != "SSL_CERT_FILE"}
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def ns(rkt: Rkt, host: DiscoveryHost, tmp_path: Path) -> InNs:
    return InNs(rkt, host, tmp_path / "conf")


def _images(ns: InNs) -> str:
    return ns("image", "list", "--no-legend", "--fields=name").out


def test_trust_by_discovery_then_fetch_by_name(ns: InNs, key: Key) -> None:
    r = ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review")
    assert r.code == 0, r
    assert 'Key: "https://example.com/pubkeys.gpg"' in r.out and "App Publisher" in r.out
    r = ns("fetch", "example.com/app:v1.0")
    assert r.code == 0, r
    assert "verified: signed by App Publisher" in r.err
    assert _images(ns).split() == ["example.com/app:v1.0"]
    asked = ns.host.requests()
    assert any("GET /app?ac-discovery=1" in line for line in asked)
    assert any("GET /images/example.com/app-v1.0-linux-amd64.aci.asc" in line for line in asked)
    assert ns("fetch", "example.com/app:v1.0").code == 0
    assert ns.host.requests() == asked, "a name in the store is used without the network"
    assert ns("fetch", "--pull-policy=update", "example.com/app:v1.0").code == 0
    assert len(ns.host.requests()) > len(asked)


def test_untrusted_discovered_image_refused_then_trust_keys_from_https(ns: InNs, key: Key) -> None:
    r = ns("fetch", "example.com/app:v1.0")
    assert r.code == 254 and 'image "example.com/app:v1.0" (example.com/app): no key is trusted' in r.err, r
    assert _images(ns) == ""
    r = ns("--trust-keys-from-https", "fetch", "example.com/app:v1.0")
    assert r.code == 0, r
    assert f"Trusting key {key.fingerprint}" in r.err
    assert (ns.conf / "local/trustedkeys/prefix.d/example.com/app" / key.fingerprint).is_file()


def test_tls_checked_unless_insecure_tls(ns: InNs) -> None:
    r = ns("fetch", "example.com/app:v1.0", ca=False)
    assert r.code == 254 and "TLS certificate verification failed" in r.err, r
    r = ns("--insecure-options=tls,image", "fetch", "example.com/app:v1.0", ca=False)
    assert r.code == 0, r
    assert "signature verification is disabled" in r.err


def test_version_and_name_must_match_the_manifest(ns: InNs) -> None:
    ns.host.put("images/example.com/app-v2.0-linux-amd64.aci",
                (ns.host.root / "images/example.com/app-v1.0-linux-amd64.aci").read_bytes())
    r = ns("--insecure-options=image", "fetch", "example.com/app:v2.0")
    assert r.code == 254 and 'discovery served version "v1.0", not "v2.0"' in r.err, r
    assert _images(ns) == ""


def test_walks_up_the_path_and_http_needs_insecure_http(ns: InNs, key: Key) -> None:
    ns.host.put("index.html", meta_page(("ac-discovery", "example.com/team", "http://example.com/t/{name}.{ext}")))
    aci = tiny_aci(ns.host.root / "t/example.com/team/db.aci", "example.com/team/db", "1")
    key.sign(aci)
    assert ns("trust", "--root", "--skip-fingerprint-review", str(key.public)).code == 0
    r = ns("fetch", "example.com/team/db")
    assert r.code == 254 and "plain HTTP is not allowed" in r.err, r
    assert any("GET /team/db?ac-discovery=1" in line and " 404 " in line for line in ns.host.requests())
    r = ns("--insecure-options=http", "fetch", "example.com/team/db")
    assert r.code == 0, r
    assert _images(ns).split() == ["example.com/team/db:1"]


def test_no_discovery_page(ns: InNs) -> None:
    r = ns("fetch", "example.com/nothing:1")
    assert r.code == 254 and 'discovery of "example.com/nothing" failed' in r.err, r
    assert len(r.err.splitlines()) == 1


def test_https_aci_verified_against_url_asc(ns: InNs, key: Key) -> None:
    url = "https://example.com/images/example.com/app-v1.0-linux-amd64.aci"
    good = ns.host.root / "images/example.com/app-v1.0-linux-amd64.aci"
    ns.host.put("bad/app.aci", good.read_bytes() + b"\0" * 1024)
    ns.host.put("bad/app.aci.asc", (good.parent / (good.name + ".asc")).read_bytes())
    assert ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review", str(key.public)).code == 0
    r = ns("fetch", "https://example.com/bad/app.aci")
    assert r.code == 254 and len([ln for ln in r.err.splitlines() if not ln.startswith("Download")]) == 1, r
    assert 'image "https://example.com/bad/app.aci" (example.com/app): the signature does not match' in r.err
    assert _images(ns) == ""
    r = ns("fetch", "--full", url)
    assert r.code == 0 and "verified: signed by App Publisher" in r.err, r
    assert any("GET /images/example.com/app-v1.0-linux-amd64.aci.asc" in line for line in ns.host.requests())
    r = ns("image", "verify", r.out.strip())
    assert r.code == 0 and "verified, signed by App Publisher" in r.out, r


def test_prepare_discovers_verifies_and_uses_the_name(ns: InNs, key: Key) -> None:
    assert ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review", str(key.public)).code == 0
    r = ns("prepare", "--stage1-name=fly", "example.com/app:v1.0", "--exec=/hello")
    assert r.code == 0 and "verified: signed by App Publisher" in r.err, r
    assert _images(ns).split() == ["example.com/app:v1.0"]


def test_trust_key_by_url_needs_https_unless_allowed(ns: InNs, key: Key) -> None:
    r = ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review", "http://example.com/pubkeys.gpg")
    assert r.code == 254 and "plain HTTP is not allowed" in r.err, r
    r = ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review", "--insecure-allow-http",
           "http://example.com/pubkeys.gpg")
    assert r.code == 0 and key.fingerprint in r.out.replace(" ", "").lower(), r
    r = ns("trust", "--prefix=example.com/other", "--skip-fingerprint-review", "https://example.com/pubkeys.gpg")
    assert r.code == 0 and 'Key: "https://example.com/pubkeys.gpg"' in r.out, r


def test_https_aci_without_signature_refused(ns: InNs) -> None:
    good = ns.host.root / "images/example.com/app-v1.0-linux-amd64.aci"
    ns.host.put("plain/app.aci", good.read_bytes())
    r = ns("fetch", "https://example.com/plain/app.aci")
    assert r.code == 254, r
    assert 'image "https://example.com/plain/app.aci": no signature found' in r.err and _images(ns) == ""
    assert any("GET /plain/app.aci.asc" in line and " 404 " in line for line in ns.host.requests())


def test_discovered_image_streams_through_the_signature_check(ns: InNs, key: Key, tmp_path: Path) -> None:
    """The discovered image is checked as it streams in, as https:// ACIs are: the signature given
    for the name (--signature) is used as for a URL, and a missing or wrong one keeps nothing."""
    image = ns.host.root / "images/example.com/app-v1.0-linux-amd64.aci"
    served = image.with_name(image.name + ".asc")
    given = tmp_path / "given.asc"
    given.write_bytes(served.read_bytes())
    served.unlink()
    assert ns("trust", "--prefix=example.com/app", "--skip-fingerprint-review", str(key.public)).code == 0
    r = ns("fetch", "example.com/app:v1.0")
    assert r.code == 254 and _images(ns) == "", r
    errors = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(errors) == 1 and errors[0].startswith('fetch: image "example.com/app:v1.0": no signature could '
                                                     "be downloaded"), r
    assert "https://example.com/images/example.com/app-v1.0-linux-amd64.aci.asc" in errors[0], r
    asked = len(ns.host.requests())
    r = ns("fetch", f"--signature={given}", "example.com/app:v1.0")
    assert r.code == 0 and "verified: signed by App Publisher" in r.err, r
    assert not any(".asc" in line for line in ns.host.requests()[asked:]), "the given signature is used"
    assert _images(ns).split() == ["example.com/app:v1.0"]
