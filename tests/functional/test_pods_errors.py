"""``rkt run`` / ``prepare`` with a pod manifest, and rkt's own errors: 254, one line naming the input, nothing left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import FLY, Result, Rkt, mounts_under

pytestmark = pytest.mark.root


def assert_rkt_error(rkt: Rkt, r: Result, *names: str) -> None:
    """rkt's own error: exit 254, one line on stderr naming each of ``names``, no pod and no mount left."""
    assert r.code == 254, str(r)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    for n in names:
        assert n in lines[0], (n, lines[0])
    assert rkt.pods() == []
    assert mounts_under(rkt.data) == []


def pod_manifest(rkt: Rkt, image: str, tmp_path: Path, exec_: list[str]) -> Path:
    """A pod manifest file for ``image`` (taken from a prepared pod, then that pod removed)."""
    uuid = rkt.run_ok("prepare", FLY, image).out.strip()
    m = json.loads(rkt.run_ok("cat-manifest", uuid).out)
    rkt.run_ok("rm", uuid)
    m["apps"][0]["app"]["exec"] = exec_
    m["apps"][0]["app"]["environment"] = [{"name": "FROM", "value": "manifest"}]
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(m))
    return path


def test_run_with_a_pod_manifest(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    path = pod_manifest(rkt, busybox, tmp_path, ["/bin/sh", "-c", 'echo "$FROM"; exit 12'])
    r = rkt("run", FLY, f"--pod-manifest={path}")
    assert r.code == 12, str(r)
    assert r.out == "manifest\n"


def test_prepare_with_a_pod_manifest(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    path = pod_manifest(rkt, busybox, tmp_path, ["/bin/echo", "prepared", "from", "manifest"])
    uuid = rkt.run_ok("prepare", FLY, f"--pod-manifest={path}").out.strip()
    assert rkt.run_ok("run-prepared", uuid).out == "prepared from manifest\n"


@pytest.mark.parametrize("flags", [
    ("IMAGE",),
    ("--set-env=A=B",),
    ("--inherit-env",),
    ("--volume=v,kind=empty",),
    ("--exec=/bin/true",),
])
def test_pod_manifest_with_conflicting_flags(rkt: Rkt, busybox: str, tmp_path: Path, flags: tuple[str, ...]) -> None:
    path = tmp_path / "pod.json"
    path.write_text("{}")
    args = [busybox if f == "IMAGE" else f for f in flags]
    for cmd in ("run", "prepare"):
        r = rkt(cmd, FLY, f"--pod-manifest={path}", *args)
        assert_rkt_error(rkt, r, "conflicting flags set with --pod-manifest (see --help)")


def test_missing_pod_manifest(rkt: Rkt, tmp_path: Path) -> None:
    r = rkt("run", FLY, f"--pod-manifest={tmp_path}/nope.json")
    assert_rkt_error(rkt, r, f"{tmp_path}/nope.json")


def test_malformed_pod_manifest(rkt: Rkt, tmp_path: Path) -> None:
    path = tmp_path / "pod.json"
    path.write_text("{not json")
    r = rkt("run", FLY, f"--pod-manifest={path}")
    assert_rkt_error(rkt, r)


def test_no_image(rkt: Rkt) -> None:
    for cmd in ("run", "prepare"):
        assert_rkt_error(rkt, rkt(cmd, FLY), "must provide at least one image or specify the pod manifest")


def test_interactive_with_two_images(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, "--interactive", busybox, busybox),
                     "interactive option only supports one image")


def test_missing_image_file(rkt: Rkt, tmp_path: Path) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, f"{tmp_path}/missing.aci"), f"{tmp_path}/missing.aci")


@pytest.mark.parametrize("pod_flags, app_flags, named", [
    (("--volume=x,kind=bogus",), (), "--volume=x,kind=bogus"),
    (("--volume=x,kind=host",), (), "x"),
    (("--set-env=1BAD=x",), (), "--set-env=1BAD=x"),
    (("--set-env=NOVALUE",), (), "--set-env=NOVALUE"),
    (("--set-env-file=/nonexistent/env",), (), "/nonexistent/env"),
    (("--dns=not-an-ip",), (), "not-an-ip"),
    (("--pull-policy=sometimes",), (), "sometimes"),
    (("--no-such-flag",), (), "--no-such-flag"),
    (("--net=default",), (), "--net=default"),
    (("--port=foo",), (), "--port=foo"),
    ((), ("--memory=lots",), "--memory=lots"),
    ((), ("--supplementary-gids=a,b",), "--supplementary-gids=a,b"),
    ((), ("--mount=volume=x",), "--mount=volume=x"),
    ((), ("--working-dir=relative",), "--working-dir=relative"),
    ((), ("--user-annotation=novalue",), "--user-annotation=novalue"),
    ((), ("--no-such-app-flag",), "--no-such-app-flag"),
    ((), ("--exec",), "--exec"),
])
def test_bad_flag_values(rkt: Rkt, busybox: str, pod_flags: tuple[str, ...], app_flags: tuple[str, ...],
                         named: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, *pod_flags, busybox, *app_flags), named)


def test_bad_global_flag(rkt: Rkt) -> None:
    r = rkt("--insecure-options=bogus", "list")
    assert r.code == 254 and "bogus" in r.err and len(r.err.strip().splitlines()) == 1, str(r)


def test_unwritable_uuid_file(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    r = rkt("run", FLY, f"--uuid-file-save={tmp_path}/no/dir/uuid", busybox)
    assert_rkt_error(rkt, r, f"{tmp_path}/no/dir/uuid")


def test_second_app_with_fly(rkt: Rkt, busybox: str, image: Any) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, image(name="example.com/second")), "fly")


def test_missing_exec_binary(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, "--exec=/usr/bin/missing"), "/usr/bin/missing")


def test_image_exec_missing_from_the_image(rkt: Rkt, image: Any) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, image(exec_=("/opt/app/run",))), "/opt/app/run")


def test_unknown_group(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, "--group=nosuchgroup"), "nosuchgroup")


def test_image_without_app_needs_exec(rkt: Rkt, image: Any) -> None:
    img = image(with_app=False, name="example.com/noapp")
    assert_rkt_error(rkt, rkt("run", FLY, img), img)
    r = rkt.run_ok("run", FLY, img, "--exec=/bin/echo", "--", "ok", "---")
    assert r.out == "ok\n"


def test_unknown_stage1_name(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", "--stage1-name=nosuchflavor", busybox)
    assert_rkt_error(rkt, r, "nosuchflavor", "fly")
    r = rkt("prepare", "--stage1-name=nosuchflavor", busybox)
    assert_rkt_error(rkt, r, "nosuchflavor", "fly")


def test_exec_that_is_not_executable(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, "--exec=/etc/passwd"), "/etc/passwd")


def test_exec_that_is_a_directory(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, "--exec=/etc"), "/etc")


def test_malformed_pod_manifest_names_the_file(rkt: Rkt, tmp_path: Path) -> None:
    path = tmp_path / "pod.json"
    path.write_text("{not json")
    assert_rkt_error(rkt, rkt("run", FLY, f"--pod-manifest={path}"), str(path))


def test_missing_working_dir(rkt: Rkt, busybox: str) -> None:
    assert_rkt_error(rkt, rkt("run", FLY, busybox, "--working-dir=/no/such/dir"), "/no/such/dir")


def test_working_dir_on_a_volume(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    r = rkt.run_ok("run", FLY, "--volume=w,kind=empty", busybox, "--mount=volume=w,target=/work",
                   "--working-dir=/work", "--exec=/bin/pwd")
    assert r.out == "/work\n"
