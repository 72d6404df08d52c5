"""Registry images signed by skopeo (simple signing, lookaside store): accepted, and refused when tampered."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.conftest import Result, Rkt
from tests.support.gpg import GpgHome, Key
from tests.support.hostile import reg as entry
from tests.support.oci import add_layer, busybox_layout
from tests.support.registry import Registry, running_registry

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Key]:
    home = GpgHome(tmp_path_factory.mktemp("gnupg"))
    yield home.new_key("Registry Signer <registry@example.com>")
    home.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OCI layout: busybox at v1, and v2 = v1 plus a file."""
    lay = tmp_path_factory.mktemp("oci") / "app"
    busybox_layout(lay, "v1")
    add_layer(lay, "v1", [entry("etc/extra", "2\n")], new_tag="v2")
    return lay


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as r:
        yield r


class Setup:
    """rkt's config dir with a registries.d naming a file lookaside store; skopeo writes there too."""

    def __init__(self, rkt: Rkt, reg: Registry, key: Key, root: Path) -> None:
        rkt.insecure_image = False
        self.rkt, self.reg, self.key = rkt, reg, key
        self.conf = root / "conf"
        self.sigstore = root / "sigstore"
        (self.conf / "registries.d").mkdir(parents=True)
        (self.conf / "registries.d" / "test.yaml").write_text(
            f"docker:\n  {reg.host}:\n    lookaside: file://{self.sigstore}\n")

    def push(self, src: str, repo_tag: str, *, sign: bool = True) -> None:
        argv = ["skopeo", "--registries.d", str(self.conf / "registries.d"), "copy", "--quiet",
                "--dest-tls-verify=false", *(["--sign-by", self.key.fingerprint] if sign else []), src,
                self.reg.ref(repo_tag)]
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300,
                       env=dict(self.reg.env, GNUPGHOME=str(self.key.home.dir)))

    def __call__(self, *args: str) -> Result:
        given = any(a.startswith("--insecure-options=") for a in args)
        return self.rkt(f"--local-config={self.conf}", f"--system-config={self.conf}/system",
                        *(() if given else ("--insecure-options=http",)), *args, env=self.reg.env)

    def signatures(self, repo: str) -> list[Path]:
        parent, _, name = repo.rpartition("/")
        return sorted((self.sigstore / parent).glob(f"{name}@*/signature-*"))


def _error(r: Result) -> str:
    """rkt's one-line error (after the plain progress lines a download prints)."""
    lines = [line for line in r.err.splitlines() if not line.startswith("Download")]
    assert len(lines) == 1, r
    return lines[0]


@pytest.fixture
def setup(rkt: Rkt, reg: Registry, key: Key, tmp_path: Path) -> Setup:
    return Setup(rkt, reg, key, tmp_path)


def test_signed_image_accepted_and_tampered_twin_refused(setup: Setup, images: Path) -> None:
    a, b = f"oci:{images}:v1", f"oci:{images}:v2"
    setup.push(a, "team/app:v1")
    setup.push(b, "team/app:v2", sign=False)
    [sig] = setup.signatures("team/app")
    r = setup("fetch", setup.reg.ref("team/app:v1"))
    assert r.code == 254 and "no key is trusted" in _error(r), r
    assert "Download" not in r.err, "a refused image's layers are not downloaded"
    r = setup("trust", f"--prefix={setup.reg.host}/team", "--skip-fingerprint-review", str(setup.key.public))
    assert r.code == 0, r
    r = setup("fetch", setup.reg.ref("team/app:v1"))
    assert r.code == 0 and "verified: signed by Registry Signer" in r.err, r
    # the twin: v2's manifest with v1's signature put where v2's would be
    v2 = setup("--insecure-options=http,image", "fetch", "--full", setup.reg.ref("team/app:v2"))
    assert v2.code == 0, v2
    setup("image", "rm", v2.out.strip())
    digest = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                             setup.reg.ref("team/app:v2")], capture_output=True, text=True, check=True,
                            env=setup.reg.env, timeout=60).stdout.strip()
    twin = setup.sigstore / f"team/app@{digest.replace(':', '=', 1)}" / "signature-1"
    twin.parent.mkdir(parents=True)
    shutil.copy(sig, twin)
    before = setup("image", "list", "--no-legend", "--fields=name").out
    r = setup("fetch", setup.reg.ref("team/app:v2"))
    assert r.code == 254, r
    assert _error(r).startswith(f'fetch: image "{setup.reg.ref("team/app:v2")}": ')
    assert "signs another manifest" in _error(r)
    assert setup("image", "list", "--no-legend", "--fields=name").out == before


def test_unsigned_and_other_repository(setup: Setup, images: Path) -> None:
    a = f"oci:{images}:v1"
    setup.push(a, "other/app:v1", sign=False)
    assert setup("trust", f"--prefix={setup.reg.host}/team", "--skip-fingerprint-review",
                 str(setup.key.public)).code == 0
    r = setup("fetch", setup.reg.ref("other/app:v1"))
    assert r.code == 254 and "no signature found" in r.err, r
    setup.push(a, "elsewhere/app:v1")
    r = setup("fetch", setup.reg.ref("elsewhere/app:v1"))
    assert r.code == 254 and f'trusted for prefix "{setup.reg.host}/team"' in r.err, r
    r = setup("--insecure-options=http,image", "fetch", setup.reg.ref("other/app:v1"))
    assert r.code == 0 and "signature verification is disabled" in r.err, r
    assert os.path.exists(setup.conf / "registries.d" / "test.yaml")


def test_image_verify_rechecks_kept_signatures(setup: Setup, images: Path, data_dir: Path) -> None:
    setup.push(f"oci:{images}:v1", "kept/app:v1")
    setup.push(f"oci:{images}:v2", "kept/app:v2", sign=False)
    assert setup("trust", f"--prefix={setup.reg.host}/kept", "--skip-fingerprint-review",
                 str(setup.key.public)).code == 0
    signed = setup("fetch", "--full", setup.reg.ref("kept/app:v1"))
    assert signed.code == 0, signed
    image_id = signed.out.strip()
    assert (data_dir / "cas" / "signatures" / f"{image_id}.simple.json").is_file()
    r = setup("image", "verify", image_id)
    assert r.code == 0 and r.out.startswith(image_id[:39]), r
    assert "verified, signed by Registry Signer" in r.out, r
    # an image taken without its signature checked has none kept
    unsigned = setup("--insecure-options=http,image", "fetch", "--full", setup.reg.ref("kept/app:v2"))
    assert unsigned.code == 0, unsigned
    r = setup("image", "verify", unsigned.out.strip())
    assert r.code == 254 and r.out == "", r
    assert r.err.splitlines() == [r.err.strip()] and "no signature is stored with it" in r.err, r
    # today's keys: the key is no longer trusted
    assert setup("trust", "rm", setup.key.fingerprint).code == 0
    r = setup("image", "verify", image_id)
    assert r.code == 254 and r.out == "", r
    assert r.err.splitlines() == [r.err.strip()] and r.err.startswith("image verify: "), r
    assert "no key is trusted" in r.err, r
    # removing the image removes what was kept with it
    assert setup("image", "rm", image_id).code == 0
    assert not (data_dir / "cas" / "signatures" / f"{image_id}.simple.json").exists()
