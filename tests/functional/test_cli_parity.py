"""What rkt 1.30's users type works here: flags, commands and config files as rkt wrote them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.functional.conftest import FLY, RKT, Rkt
from tests.functional.test_pods_lifecycle import start_running


def test_bare_rkt_prints_help_and_exits_2() -> None:
    p = subprocess.run([str(RKT)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    assert "COMMANDS:" in p.stdout + p.stderr and "Traceback" not in p.stderr


def test_version_prints_the_features_line(rkt: Rkt) -> None:
    out = rkt.run_ok("version").out
    assert re.search(r"^Features: [-+]TPM [-+]SDJOURNAL$", out, re.M), out
    assert json.loads(rkt.run_ok("version", "--format=json").out)["features"] == ["-TPM", "-SDJOURNAL"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(rkt: Rkt, shell: str) -> None:
    out = rkt.run_ok("completion", shell).out
    assert "rkt" in out and "run-prepared" in out and "no-overlay" in out
    if shell == "bash":
        probe = 'COMP_WORDS=(rkt run --no-ov); COMP_CWORD=2; _rkt; echo "${COMPREPLY[*]}"'
        p = subprocess.run(["bash", "-c", f"{out}\n{probe}"], capture_output=True, text=True, timeout=30)
        assert p.stdout.strip() == "--no-overlay", p
    r = rkt("completion", "tcsh")
    assert r.code == 254 and len(r.err.splitlines()) == 1


def test_boolean_flags_with_values_through_the_command(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, "--quiet=true", "--no-overlay=false", busybox, "--readonly-rootfs=false",
                      "--exec=/bin/true").out.strip()
    assert rkt.run_ok("list", "--no-legend=true", "--full=true").out.startswith(uuid)
    assert rkt.run_ok("cat-manifest", "--pretty-print", uuid).out.startswith("{\n")
    assert "\n" not in rkt.run_ok("cat-manifest", "--pretty-print=false", uuid).out.rstrip("\n")
    rkt.run_ok("gc", "--mark-only=false", "--grace-period=0s", "--expire-prepared=0s")
    assert rkt("status", uuid).code == 254


def test_bare_net_is_the_default_network_not_the_image(rkt: Rkt, busybox: str) -> None:
    # fly runs in the host's network only: the bare --net reached the flavor as "default", the image stayed one
    r = rkt("run", FLY, "--net", busybox, "--exec=/bin/true")
    assert r.code == 254 and "default" in r.err and "image" not in r.err.lower(), str(r)


def test_enter_passes_flags_to_the_command_and_defaults_to_a_shell(rkt: Rkt, busybox: str) -> None:
    p, uuid = start_running(rkt, busybox)
    r = rkt("enter", uuid, "/bin/echo", "--dir", "/x", "--app=y")
    assert (r.code, r.out) == (0, "--dir /x --app=y\n"), str(r)
    r = rkt("enter", uuid, input="echo $((6 * 7)); exit 3\n")
    assert (r.code, r.out) == (3, "42\n"), str(r)
    rkt.run_ok("stop", "--force=true", uuid)
    p.communicate(timeout=30)


@pytest.mark.parametrize("flag", ["--net=host", "--net", "--dns=8.8.8.8", "--dns-search=example.com",
                                  "--hosts-entry=10.0.0.1=db", "--hostname=web"])
def test_prepare_refuses_the_run_time_flags(rkt: Rkt, busybox: str, flag: str) -> None:
    r = rkt("prepare", FLY, flag, busybox, "--exec=/bin/true")
    assert r.code == 254 and "run-prepared" in r.err and len(r.err.splitlines()) == 1, str(r)
    assert rkt.pods() == []


@pytest.mark.parametrize("value", ["web\nevil", "-web", "a" * 64, "we b", "web.", "x..y", "ümlaut"])
def test_hostname_must_be_an_rfc1123_name(rkt: Rkt, busybox: str, value: str) -> None:
    for argv in (("run", FLY, f"--hostname={value}", busybox, "--exec=/bin/true"),):
        r = rkt(*argv)
        assert r.code == 254 and len(r.err.splitlines()) == 1 and "--hostname" in r.err, str(r)
    assert rkt.pods() == []


@pytest.mark.parametrize("flags", [
    ("--stage1-name=coreos.com/rkt/stage1-fly",), ("--stage1-name=coreos.com/rkt/stage1-fly:1.30.0",),
    ("--stage1-from-dir=stage1-fly.aci",), ("--stage1-path=/usr/lib/rkt/stage1-images/stage1-fly.aci",),
    ("--stage1-url=https://example.com/rkt/stage1-fly.aci",),
])
def test_rkt_stage1_image_names_choose_the_flavor(rkt: Rkt, busybox: str, flags: tuple[str, ...]) -> None:
    r = rkt("run", *flags, busybox, "--exec=/bin/echo", "--", "flown", "---")
    assert (r.code, r.out) == (0, "flown\n"), str(r)
    (pod,) = rkt.pods()
    assert json.loads((pod / "stage1").read_text())["name"] == "fly"


@pytest.mark.parametrize("flag", ["--stage1-name=coreos.com/rkt/stage1-unknown", "--stage1-path=/x/stage1-odd.aci",
                                  "--stage1-hash=sha512-abc"])
def test_unknown_stage1_images_are_refused(rkt: Rkt, busybox: str, flag: str) -> None:
    r = rkt("run", flag, busybox, "--exec=/bin/true")
    assert r.code == 254 and len(r.err.splitlines()) == 1 and "Traceback" not in r.err, str(r)


def _config(tmp_path: Path, subdir: str, doc: dict[str, object]) -> Path:
    d = tmp_path / "etc" / subdir
    d.mkdir(parents=True, exist_ok=True)
    (d / "rkt.json").write_text(json.dumps({"rktVersion": "v1", **doc}))
    return tmp_path / "etc"


@pytest.mark.parametrize("doc", [
    {"name": "coreos.com/rkt/stage1-fly", "version": "1.30.0", "location": "/usr/lib/rkt/stage1-images/stage1-fly.aci"},
    {"location": "/usr/lib/rkt/stage1-images/stage1-fly.aci"},
])
def test_rkt_stage1_config_chooses_the_flavor(rkt: Rkt, busybox: str, tmp_path: Path, doc: dict[str, str]) -> None:
    etc = _config(tmp_path, "stage1.d", {"rktKind": "stage1", **doc})
    r = rkt(f"--local-config={etc}", "run", busybox, "--exec=/bin/echo", "--", "flown", "---")
    assert (r.code, r.out) == (0, "flown\n"), str(r)


def test_paths_config_with_stage1_images_is_accepted_with_a_notice(rkt: Rkt, tmp_path: Path) -> None:
    etc = _config(tmp_path, "paths.d", {"rktKind": "paths", "data": str(rkt.data),
                                        "stage1-images": "/usr/lib/rkt/stage1-images"})
    r = subprocess.run([str(RKT), f"--local-config={etc}", "list"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("UUID"), r
    assert len(r.stderr.splitlines()) == 1 and "stage1-images" in r.stderr and "no effect" in r.stderr, r


def test_auth_of_an_unsupported_type(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    etc = _config(tmp_path, "auth.d", {"rktKind": "auth", "domains": ["example.com"], "type": "aws",
                                       "credentials": {"accessKeyID": "x"}})
    g = f"--local-config={etc}"
    rkt.run_ok(g, "--insecure-options=image", "fetch", busybox)
    rkt.run_ok(g, "run", FLY, busybox, "--exec=/bin/true")
    rkt.run_ok(g, "list")
    rkt.run_ok(g, "image", "list")
    r = rkt(g, "config")
    assert r.code == 254 and len(r.err.splitlines()) == 1, str(r)
    assert str(etc / "auth.d" / "rkt.json") in r.err and "'aws'" in r.err, str(r)
