"""``rkt fetch`` and ``rkt run`` of ``docker://`` images from a real registry on loopback.

The registry is Debian's docker-registry, started by the tests; images are built by umoci
(several layers, whiteouts, an opaque directory) and pushed by skopeo in OCI and Docker
schema 2 form.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Rkt, wait_for
from tests.support.hostile import dir_, hard, reg, store_snapshot, sym
from tests.support.oci import add_layer, busybox_layout
from tests.support.registry import Registry, running_registry
from tests.support.registry_images import platform_index

pytestmark = pytest.mark.registry
FETCH = ("--insecure-options=image,http", "fetch", "--full")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lay = tmp_path_factory.mktemp("oci") / "app"
    busybox_layout(lay, "v1", entrypoint=["/bin/sh", "-c"], cmd=['echo "$FOO from $(pwd) as $(id -un)"; ls /etc'],
                   env={"FOO": "registry"}, user="user", workdir="/home/user")
    add_layer(lay, "v1", [reg("etc/fourth", "4\n")], new_tag="v2")
    return lay


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, layout: Path) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as r:
        r.push(f"oci:{layout}:v1", "app/oci:v1", fmt="oci")
        r.push(f"oci:{layout}:v2", "app/oci:v2", fmt="oci")
        r.push(f"oci:{layout}:v1", "app/docker:v1", fmt="v2s2")
        yield r


@pytest.fixture
def env(registry: Registry) -> dict[str, str]:
    return registry.env


def _manifest(registry: Registry, repo: str, tag: str) -> tuple[str, Any]:
    """(digest, manifest) of a pushed image, read as skopeo reads it."""
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", registry.ref(f"{repo}:{tag}")],
                         check=True, capture_output=True, env=registry.env).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest(), json.loads(raw)


def test_fetch_by_tag_and_by_digest(rkt: Rkt, registry: Registry, env: dict[str, str]) -> None:
    ref = registry.ref("app/oci:v1")
    r = rkt.run_ok(*FETCH, ref, env=env)
    image_id = r.out.strip()
    digest, _ = _manifest(registry, "app/oci", "v1")
    assert rkt.run_ok(*FETCH, registry.ref(f"app/oci@{digest}"), env=env).out.strip() == image_id
    listed = rkt.run_ok("image", "list", "--no-legend", env=env).out
    assert f"{registry.host}/app/oci" in listed, listed
    docker = rkt.run_ok(*FETCH, registry.ref("app/docker:v1"), env=env).out.strip()
    assert docker != image_id  # another manifest (schema 2), the same layers
    assert len(rkt.run_ok("image", "list", "--no-legend", env=env).out.splitlines()) == 2


def test_shared_layers_are_downloaded_once(rkt: Rkt, registry: Registry, env: dict[str, str]) -> None:
    _, v1 = _manifest(registry, "app/oci", "v1")
    _, v2 = _manifest(registry, "app/oci", "v2")
    layers1 = [d["digest"] for d in v1["layers"]]
    layers2 = [d["digest"] for d in v2["layers"]]
    assert layers2[:-1] == layers1
    before = {d: registry.requests("GET", f"/v2/app/oci/blobs/{d}") for d in layers2}
    rkt.run_ok(*FETCH, registry.ref("app/oci:v1"), env=env)
    rkt.run_ok(*FETCH, registry.ref("app/oci:v2"), env=env)
    after = {d: registry.requests("GET", f"/v2/app/oci/blobs/{d}") for d in layers2}
    assert {d: after[d] - before[d] for d in layers2} == {d: 1 for d in layers2}


def test_index_picks_this_host_or_lists_what_it_offers(rkt: Rkt, registry: Registry, layout: Path,
                                                         tmp_path: Path, env: dict[str, str]) -> None:
    lay = tmp_path / "multi"
    shutil.copytree(layout, lay)
    registry.push(platform_index(lay, {"v1": ("linux", "amd64"), "v2": ("linux", "arm64")}, "multi"),
                  "app/multi:1", all_images=True)
    registry.push(platform_index(lay, {"v1": ("linux", "arm64"), "v2": ("linux", "s390x")}, "foreign"),
                  "app/foreign:1", all_images=True)
    picked = rkt.run_ok(*FETCH, registry.ref("app/multi:1"), env=env).out.strip()
    assert picked == rkt.run_ok(*FETCH, registry.ref("app/oci:v1"), env=env).out.strip()
    registry.push(f"oci:{lay}:multi", "app/multi-docker:1", all_images=True, fmt="v2s2")
    _, as_list = _manifest(registry, "app/multi-docker", "1")
    assert as_list["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    from_list = rkt.run_ok(*FETCH, registry.ref("app/multi-docker:1"), env=env).out.strip()
    assert from_list == rkt.run_ok(*FETCH, registry.ref("app/docker:v1"), env=env).out.strip()
    r = rkt(*FETCH, registry.ref("app/foreign:1"), env=env)
    assert r.code == 254, r
    err = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(err) == 1 and "linux/arm64, linux/s390x" in err[0], r.err


@pytest.mark.parametrize("repo", ["app/oci:nope", "no/such:v1"])
def test_unknown_tag_or_repository(rkt: Rkt, registry: Registry, env: dict[str, str], repo: str) -> None:
    ref = registry.ref(repo)
    r = rkt(*FETCH, ref, env=env)
    assert (r.code, r.out) == (254, ""), r
    assert r.err == f'fetch: image "{ref}": the registry says: manifest unknown (MANIFEST_UNKNOWN)\n'


def test_registry_images_need_the_image_option(rkt: Rkt, registry: Registry, env: dict[str, str]) -> None:
    rkt.insecure_image = False
    r = rkt("--insecure-options=http", "fetch", registry.ref("app/oci:v1"), env=env)
    assert r.code == 254 and "--insecure-options=image" in r.err, r
    assert rkt.run_ok("image", "list", "--no-legend", env=env).out == ""


def test_plain_http_refused_without_the_option(rkt: Rkt, registry: Registry, env: dict[str, str]) -> None:
    ref = registry.ref("app/oci:v1")
    r = rkt("--insecure-options=image", "fetch", ref, env=env)
    assert r.code == 254, r
    assert r.err.startswith(f'fetch: image "{ref}": TLS with {registry.host} failed (')
    assert r.err.endswith("; a plain-HTTP registry needs --insecure-options=http\n")


def test_tampered_blob_stores_nothing(rkt: Rkt, tmp_path: Path, layout: Path, data_dir: Path,
                                      busybox: str) -> None:
    with running_registry(tmp_path / "registry") as registry:
        registry.push(f"oci:{layout}:v1", "app/tampered:v1")
        _, m = _manifest(registry, "app/tampered", "v1")
        layer = m["layers"][1]["digest"]
        blob = registry.blob_path(layer)
        raw = bytearray(blob.read_bytes())
        raw[-1] ^= 0xFF
        blob.write_bytes(bytes(raw))
        rkt.run_ok("fetch", busybox)
        before = store_snapshot(data_dir / "cas")
        ref = registry.ref("app/tampered:v1")
        r = rkt(*FETCH, ref, env=registry.env)
        assert r.code == 254, r
        err = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
        assert len(err) == 1 and "does not match its digest" in err[0] and ref in err[0], r.err
        assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 1
        assert store_snapshot(data_dir / "cas") == before


# -- credentials ------------------------------------------------------------------------------------
def test_basic_auth_credentials(rkt: Rkt, tmp_path: Path, layout: Path) -> None:
    with running_registry(tmp_path / "registry", tls=True, users={"alice": "s3cret"}) as registry:
        registry.push(f"oci:{layout}:v1", "app/private:v1")
        ref = registry.ref("app/private:v1")
        conf = tmp_path / "etc"
        (conf / "auth.d").mkdir(parents=True)
        auth = conf / "auth.d" / "registry.json"

        def with_password(password: str) -> None:
            auth.write_text(json.dumps({"rktKind": "dockerAuth", "rktVersion": "v1", "registries": [registry.host],
                                        "credentials": {"user": "alice", "password": password}}))

        with_password("wrong")
        argv = ("--insecure-options=image", f"--local-config={conf}", "fetch", ref)
        r = rkt(*argv, env=registry.env)
        assert (r.code, r.err) == (254, f'fetch: image "{ref}": access denied to user "alice" (credentials from '
                                        f'{auth}): authentication required (UNAUTHORIZED)\n'), r
        with_password("s3cret")
        rkt.run_ok(*argv, env=registry.env)


def test_bearer_tokens_anonymous_and_with_credentials(rkt: Rkt, tmp_path: Path, layout: Path) -> None:
    import base64

    from tests.support.registry_token import TokenService

    tokens = TokenService(tmp_path / "tokens", users={"bob": "hunter2"}, public=("pub/app",)).start()
    try:
        with running_registry(tmp_path / "registry", tls=True, auth=tokens.registry_auth()) as registry:
            registry.push(f"oci:{layout}:v1", "pub/app:v1", creds="bob:hunter2")
            registry.push(f"oci:{layout}:v1", "priv/app:v1", creds="bob:hunter2")
            env = registry.env
            rkt.run_ok("--insecure-options=image", "fetch", registry.ref("pub/app:v1"), env=env)
            assert tokens.requests[-1]["user"] is None
            auth = tmp_path / "auth.json"
            env["REGISTRY_AUTH_FILE"] = str(auth)
            ref = registry.ref("priv/app:v1")
            for password in ("wrong", "hunter2"):
                auth.write_text(json.dumps({"auths": {registry.host: {
                    "auth": base64.b64encode(f"bob:{password}".encode()).decode()}}}))
                r = rkt("--insecure-options=image", "fetch", ref, env=env)
                if password == "wrong":
                    assert (r.code, r.err) == (254, f'fetch: image "{ref}": the registry\'s token service refused the '
                                                    f'credentials of user "bob" (from {auth}): invalid username or '
                                                    "password\n"), r
            assert r.code == 0, r
            assert tokens.requests[-1]["user"] == "bob"
            untrusted = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
            r = rkt("--insecure-options=image", "fetch", "--pull-policy=update", ref, env=untrusted)
            assert r.code == 254 and "--insecure-options=tls skips certificate checks" in r.err, r
            rkt.run_ok("--insecure-options=image,tls", "fetch", "--pull-policy=update", ref, env=untrusted)
    finally:
        tokens.stop()


# -- interrupted pulls -------------------------------------------------------------------------------
@pytest.mark.slow
def test_sigkill_mid_pull_leaves_nothing_visible(rkt: Rkt, tmp_path: Path, data_dir: Path) -> None:
    from tests.support.registry_front import BlobRedirector

    lay = tmp_path / "big"
    busybox_layout(lay, "v1")
    add_layer(lay, "v1", [reg("big/blob", os.urandom(24 << 20))])
    with running_registry(tmp_path / "registry") as registry:
        registry.push(f"oci:{lay}:v1", "app/big:v1")
        front = BlobRedirector(registry, rate=8 << 20)
        try:
            ref = f"docker://{front.host}/app/big:v1"
            p = rkt.popen(*FETCH, ref, env=registry.env)
            wait_for(lambda: front.blob_headers, timeout=20, what="a blob download under way")
            time.sleep(0.5)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            assert rkt.run_ok("image", "list", "--no-legend").out == ""
            image_id = rkt.run_ok(*FETCH, ref, env=registry.env).out.strip()
        finally:
            front.stop()
    assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 1
    assert not list((data_dir / "cas" / "tmp").iterdir())
    dest = tmp_path / "x"
    rkt.run_ok("image", "extract", "--rootfs-only", image_id, str(dest))
    assert (dest / "big/blob").stat().st_size == 24 << 20


# -- hostile layers -----------------------------------------------------------------------------------
#: case -> (the layer's entries, what the error says)
HOSTILE = {
    "dotdot": ([reg("../escaped", "x")], 'entry "../escaped" escapes the root'),
    "absolute-symlink-then-file": ([sym("evil", "/tmp"), reg("evil/pwned", "owned")],
                                   'entry "evil/pwned" is written through symlink'),
    "relative-symlink-escape": ([sym("up", "../../../../../../tmp"), reg("up/pwned", "owned")],
                                'entry "up/pwned" is written through symlink'),
    "hardlink-outside": ([hard("h", "../../etc/shadow")], 'entry "h" is a hardlink to'),
    "whiteout-escape": ([reg("../.wh.etc", b"")], 'entry "../.wh.etc" escapes the root'),
    "dir-replaced-by-symlink": ([dir_("etc"), sym("etc", "/etc"), reg("etc/x", "x")],
                                'entry "etc" replaces a directory with a symlink'),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> str:
    base = tmp_path_factory.mktemp("hostile")
    for name, (entries, _) in HOSTILE.items():
        lay = base / name
        busybox_layout(lay, "v1")
        add_layer(lay, "v1", entries)
        registry.push(f"oci:{lay}:v1", f"hostile/{name}:v1")
    return "hostile"


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layers_served_by_the_registry(rkt: Rkt, registry: Registry, hostile: str, data_dir: Path,
                                               case: str) -> None:
    before = set(os.listdir("/tmp"))
    ref = registry.ref(f"{hostile}/{case}:v1")
    r = rkt(*FETCH, ref, env=registry.env)
    assert r.code == 254, r
    err = [ln for ln in r.err.splitlines() if not ln.startswith("Download")]
    assert len(err) == 1 and err[0].startswith(f'fetch: image "{ref}": layer sha256:'), r.err
    assert HOSTILE[case][1] in err[0], r.err
    assert rkt.run_ok("image", "list", "--no-legend").out == ""
    assert not {"escaped", "pwned"} & (set(os.listdir("/tmp")) - before)


# -- running ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flavor", ["fly", "coreos"])
def test_run_a_registry_image(rkt: Rkt, registry: Registry, env: dict[str, str], flavor: str) -> None:
    net = ("--net=none",) if flavor == "coreos" else ()
    r = rkt("--insecure-options=http", "run", f"--stage1-name={flavor}", *net, registry.ref("app/docker:v1"),
            env=env, timeout=120)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "registry from /home/user as user", r
    assert "second" in lines and "third" in lines and "base-only" not in lines, r


def test_debug_shows_each_registry_request(rkt: Rkt, registry: Registry, env: dict[str, str]) -> None:
    ref = registry.ref("app/oci:v2")
    plain = rkt.run_ok(*FETCH, ref, env=env)
    assert "GET " not in plain.err, plain.err
    rkt.run_ok("image", "rm", plain.out.strip(), env=env)
    r = rkt.run_ok("--debug", *FETCH, ref, env=env)
    requests = [line for line in r.err.splitlines() if line.startswith("GET ")]
    assert f"GET http://{registry.host}/v2/app/oci/manifests/v2: 200 OK" in requests, r.err
    assert any("/blobs/sha256:" in line for line in requests), r.err
