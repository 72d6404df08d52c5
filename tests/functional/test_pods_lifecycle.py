"""A fly pod's life through the CLI: prepare, run-prepared, list, status, stop, enter, gc, rm."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.functional.conftest import FLY, Rkt, mounts_under, wait_for

pytestmark = pytest.mark.root

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sh(script: str) -> tuple[str, ...]:
    return ("--exec=/bin/sh", "--", "-c", script, "---")


def run_exited(rkt: Rkt, image: str, script: str = "exit 0") -> str:
    """Run a pod to its end; its UUID."""
    rkt("run", FLY, image, *sh(script))
    (pod,) = rkt.pods()
    return pod.name


def start_running(rkt: Rkt, image: str, script: str = "sleep 30",
                  setup: str = ":") -> tuple[subprocess.Popen[str], str]:
    """Start a pod whose app runs ``setup``, prints ``ready``, then runs ``script``; wait until it is ready."""
    p = rkt.popen("run", FLY, image, *sh(f"{setup}; echo ready; {script}"))
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line == "ready\n", (line, p.stderr.read() if p.poll() is not None and p.stderr else "")
    (pod,) = rkt.pods()
    return p, pod.name


# prepare and run-prepared

def test_prepare_then_run_prepared(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("prepare", FLY, busybox, *sh("echo prepared-run; exit 5"))
    uuid = r.out.strip()
    assert UUID.match(uuid), r.out
    assert rkt.run_ok("status", uuid).out.startswith("state=prepared\n")
    r = rkt("run-prepared", uuid)
    assert r.code == 5, str(r)
    assert r.out == "prepared-run\n"
    assert rkt.run_ok("status", uuid).out.startswith("state=exited\n")


def test_run_prepared_twice_refuses_the_second(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, busybox, *sh("true")).out.strip()
    rkt.run_ok("run-prepared", uuid)
    r = rkt("run-prepared", uuid)
    assert r.code == 254, str(r)
    assert uuid in r.err and "prepared" in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_concurrent_run_prepared_exactly_one_wins(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, busybox, *sh("sleep 1; echo winner; exit 3")).out.strip()
    procs = [rkt.popen("run-prepared", uuid) for _ in range(2)]
    results = [(p.wait(timeout=30), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [3, 254], results
    (winner,) = [r for r in results if r[0] == 3]
    (loser,) = [r for r in results if r[0] == 254]
    assert winner[1] == "winner\n"
    assert uuid in loser[2] and len(loser[2].strip().splitlines()) == 1, loser


def test_uuid_file_save_with_prepare(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    f = tmp_path / "uuid"
    uuid = rkt.run_ok("prepare", FLY, f"--uuid-file-save={f}", busybox).out.strip()
    assert f.read_text().strip() == uuid


# list

def test_list_text(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    lines = rkt.run_ok("list").out.splitlines()
    assert lines[0].split() == ["UUID", "APP", "IMAGE", "NAME", "STATE", "CREATED", "STARTED", "NETWORKS"]
    assert len(lines) == 2
    row = lines[1]
    assert row.startswith(uuid[:8] + " ")
    assert re.search(r"\bbusybox\s+example\.com/busybox\s+exited\s+\d+ seconds? ago\s+\d+ seconds? ago$", row), row


def test_list_full_and_no_legend(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    lines = rkt.run_ok("list", "--full").out.splitlines()
    assert lines[0].split() == ["UUID", "APP", "IMAGE", "NAME", "IMAGE", "ID", "STATE", "CREATED", "STARTED",
                                "NETWORKS"]
    cols = lines[1].split()
    assert cols[0] == uuid
    assert cols[1:3] == ["busybox", "example.com/busybox"]
    assert re.match(r"^sha512-[0-9a-f]{32,128}$", cols[3]), cols
    assert cols[4] == "exited"
    assert re.match(r"^\d{4}-\d\d-\d\d$", cols[5]), cols
    lines = rkt.run_ok("list", "--no-legend").out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(uuid[:8])


def test_list_json(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox, "exit 4")
    (pod,) = json.loads(rkt.run_ok("list", "--format=json").out)
    assert pod["name"] == uuid
    assert pod["state"] == "exited"
    assert pod["app_names"] == ["busybox"]
    (app,) = pod["apps"]
    assert app["name"] == "busybox" and app["image_name"] == "example.com/busybox"
    assert app["image_id"].startswith("sha512-")
    assert pod["created_at"] > 0 and pod["started_at"] >= pod["created_at"]


def test_list_empty(rkt: Rkt) -> None:
    assert rkt.run_ok("list", "--no-legend").out == ""
    assert json.loads(rkt.run_ok("list", "--format=json").out) == []


# status

def test_status_of_a_running_then_exited_pod(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    p = rkt.popen("run", FLY, f"--volume=ctl,kind=host,source={ctl}", busybox, "--mount=volume=ctl,target=/ctl",
                  *sh("echo ready; while [ ! -e /ctl/go ]; do sleep 0.02; done; exit 6"))
    assert p.stdout is not None and p.stdout.readline() == "ready\n"
    (pod,) = rkt.pods()
    uuid = pod.name
    out = rkt.run_ok("status", uuid).out
    fields = dict(line.split("=", 1) for line in out.splitlines())
    assert fields["state"] == "running"
    assert fields["exited"] == "false"
    assert int(fields["pid"]) == p.pid
    assert fields["created"] and fields["started"]
    (ctl / "go").touch()
    out = rkt.run_ok("status", "--wait", uuid[:8]).out
    fields = dict(line.split("=", 1) for line in out.splitlines())
    assert fields["state"] == "exited"
    assert fields["exited"] == "true"
    assert p.wait(timeout=10) == 6


def test_status_wait_with_a_timeout_on_a_running_pod(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    r = rkt("status", "--wait=200ms", uuid)
    assert r.code == 254, str(r)
    assert uuid in r.err and len(r.err.strip().splitlines()) == 1


def test_status_json(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    st = json.loads(rkt.run_ok("status", "--format=json", uuid).out)
    assert st["name"] == uuid and st["state"] == "exited"
    assert isinstance(st["pid"], int)
    assert st["apps"][0]["name"] == "busybox"


def test_status_of_an_unknown_pod(rkt: Rkt) -> None:
    r = rkt("status", "00000000-0000-0000-0000-000000000000")
    assert r.code == 254 and "00000000-0000-0000-0000-000000000000" in r.err, str(r)


# stop

def test_stop_sends_sigterm_and_the_app_exits_with_its_code(rkt: Rkt, busybox: str) -> None:
    p, uuid = start_running(rkt, busybox, "while true; do sleep 0.1; done", setup="trap 'echo got TERM; exit 42' TERM")
    r = rkt.run_ok("stop", uuid)
    assert r.out == f'"{uuid}"\n'
    assert p.wait(timeout=10) == 42
    assert p.communicate()[0] == "got TERM\n"
    assert rkt.run_ok("status", uuid).out.startswith("state=exited\n")


def test_stop_force_kills(rkt: Rkt, busybox: str) -> None:
    p, uuid = start_running(rkt, busybox, "while true; do sleep 0.1; done", setup="trap '' TERM")
    r = rkt.run_ok("stop", "--force", uuid)
    assert r.out == f'"{uuid}"\n'
    assert p.wait(timeout=10) == -9
    assert rkt.run_ok("status", "--wait=5s", uuid).out.startswith("state=exited\n")


def test_stop_kills_after_the_stop_timeout(rkt: Rkt, busybox: str) -> None:
    p, uuid = start_running(rkt, busybox, "while true; do sleep 0.1; done", setup="trap '' TERM")
    t = time.monotonic()
    r = rkt.run_ok("stop", "--timeout=3", uuid)
    assert r.out == f'"{uuid}"\n'
    assert p.poll() is None  # the stop returned once SIGTERM was sent; the app ignores it
    assert p.wait(timeout=20) == -9
    took = time.monotonic() - t
    assert 2.9 < took < 10, took
    assert rkt.run_ok("status", "--wait=5s", uuid).out.startswith("state=exited\n")


def test_stop_of_an_exited_pod_says_already_stopped(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    r = rkt.run_ok("stop", uuid)
    assert r.out == f'pod "{uuid}" is already stopped\n'


def test_stop_of_an_unknown_pod(rkt: Rkt) -> None:
    r = rkt("stop", "deadbeef")
    assert r.code == 254 and "deadbeef" in r.err and len(r.err.strip().splitlines()) == 1, str(r)


# enter

def test_enter_runs_a_command_in_the_apps_root_with_its_environment(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox, "echo inside > /marker; sleep 30")
    wait_for(lambda: rkt("enter", uuid, "/bin/cat", "/marker").out == "inside\n", what="marker in the pod")
    r = rkt.run_ok("enter", uuid, "/bin/sh", "-c", 'echo "$FOO $AC_APP_NAME"; pwd')
    assert r.out == "image busybox\n/\n"


def test_enter_default_app_and_named_app(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    assert rkt.run_ok("enter", "--app=busybox", uuid, "/bin/echo", "hi").out == "hi\n"
    r = rkt("enter", "--app=nope", uuid, "/bin/true")
    assert r.code == 254 and '"nope"' in r.err, str(r)


def test_enter_propagates_the_commands_exit_code(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    assert rkt("enter", uuid, "/bin/sh", "-c", "exit 9").code == 9


def test_enter_of_an_exited_pod_is_refused(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    r = rkt("enter", uuid, "/bin/true")
    assert r.code == 254 and uuid in r.err and "not running" in r.err, str(r)


# gc

def test_gc_removes_exited_pods_and_their_mounts(rkt: Rkt, busybox: str, data_dir: Path) -> None:
    uuid = run_exited(rkt, busybox)
    assert mounts_under(data_dir), "a fly pod keeps its mounts until gc"
    r = rkt.run_ok("gc", "--grace-period=0s")
    assert f'Garbage collecting pod "{uuid}"' in r.out
    assert rkt.pods() == []
    assert mounts_under(data_dir) == []


def test_gc_leaves_running_pods_alone(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    rkt.run_ok("gc", "--grace-period=0s")
    assert rkt.run_ok("status", uuid).out.startswith("state=running\n")


def test_gc_respects_the_grace_period(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    r = rkt.run_ok("gc")
    assert f'moving pod "{uuid}" to garbage' in r.err
    assert "grace period" in r.err
    assert rkt.run_ok("status", uuid).out.startswith("state=exited-garbage\n")
    r = rkt.run_ok("list", "--no-legend")
    assert "exited-garbage" in r.out


def test_gc_mark_only(rkt: Rkt, busybox: str) -> None:
    uuid = run_exited(rkt, busybox)
    rkt.run_ok("gc", "--mark-only", "--grace-period=0s")
    assert [(p.parent.name, p.name) for p in rkt.pods()] == [("exited-garbage", uuid)]


def test_gc_expire_prepared(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, busybox).out.strip()
    rkt.run_ok("gc", "--grace-period=0s")
    assert [p.name for p in rkt.pods()] == [uuid], "a fresh prepared pod is kept"
    r = rkt.run_ok("gc", "--expire-prepared=0s")
    assert f'Garbage collecting pod "{uuid}"' in r.out
    assert rkt.pods() == []


def test_gc_bad_duration(rkt: Rkt) -> None:
    r = rkt("gc", "--grace-period=soon")
    assert r.code == 254 and "soon" in r.err, str(r)


# rm

def test_rm_of_an_exited_pod(rkt: Rkt, busybox: str, data_dir: Path) -> None:
    uuid = run_exited(rkt, busybox)
    r = rkt.run_ok("rm", uuid)
    assert r.out == f'"{uuid}"\n'
    assert rkt.pods() == []
    assert mounts_under(data_dir) == []


def test_rm_of_an_unknown_uuid(rkt: Rkt) -> None:
    r = rkt("rm", "f00dcafe")
    assert r.code == 254
    assert r.err.splitlines() == ['rm: cannot get pod: no matches found for "f00dcafe"',
                                  "rm: failed to remove one or more pods"]


def test_rm_of_an_empty_uuid(rkt: Rkt) -> None:
    r = rkt("rm", "")
    assert r.code == 254
    lines = r.err.splitlines()
    assert lines[0].startswith("rm: cannot get pod: ") and lines[-1] == "rm: failed to remove one or more pods"


def test_rm_of_a_running_pod_is_refused(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    r = rkt("rm", uuid)
    assert r.code == 254
    assert f'pod "{uuid}" is currently running' in r.err
    assert rkt.run_ok("status", uuid).out.startswith("state=running\n")


def test_rm_of_a_prepared_pod(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, busybox).out.strip()
    assert rkt.run_ok("rm", uuid).out == f'"{uuid}"\n'
    assert rkt.pods() == []


# cat-manifest, version, flavors

def test_cat_manifest(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, "--set-env=X=1", busybox, *sh("exit 0")).out.strip()
    m = json.loads(rkt.run_ok("cat-manifest", uuid).out)
    assert m["acKind"] == "PodManifest"
    (app,) = m["apps"]
    assert app["name"] == "busybox"
    assert app["image"]["name"] == "example.com/busybox"
    assert app["app"]["exec"] == ["/bin/sh", "-c", "exit 0"]
    assert {"name": "X", "value": "1"} in app["app"]["environment"]
    compact = rkt.run_ok("cat-manifest", "--pretty-print=false", uuid).out
    assert compact.count("\n") == 1 and json.loads(compact) == m


def test_version(rkt: Rkt) -> None:
    out = rkt.run_ok("version").out
    assert re.match(r"^rkt Version: \S+\nappc Version: \S+\n", out), out


def test_unknown_stage1_name_lists_the_installed_flavors(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", "--stage1-name=nosuchflavor", busybox)
    assert r.code == 254, str(r)
    assert "nosuchflavor" in r.err and "fly" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_a_killed_pod_is_seen_as_exited(rkt: Rkt, busybox: str, data_dir: Path) -> None:
    """No daemon: when the pod's processes die, the kernel drops the lock and the pod is exited."""
    p, uuid = start_running(rkt, busybox)
    assert "running" in rkt.run_ok("list", "--no-legend").out
    rkt.kill_all()
    assert p.returncode == -9
    assert rkt.run_ok("status", "--wait=5s", uuid).out.startswith("state=exited\n")
    rkt.run_ok("gc", "--grace-period=0s")
    assert rkt.pods() == [] and mounts_under(data_dir) == []


def test_list_shows_a_running_pod(rkt: Rkt, busybox: str) -> None:
    _, uuid = start_running(rkt, busybox)
    (pod,) = json.loads(rkt.run_ok("list", "--format=json").out)
    assert pod["name"] == uuid and pod["state"] == "running"
    assert pod["apps"][0]["state"] == "running"
    row = rkt.run_ok("list", "--no-legend").out
    assert re.search(r"\brunning\s+\d+ seconds? ago\s+\d+ seconds? ago$", row.strip()), row


def test_stop_of_a_prepared_pod_is_an_error(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("prepare", FLY, busybox).out.strip()
    r = rkt("stop", uuid)
    assert r.code == 254 and f'pod "{uuid}" is not running' in r.err, str(r)
    assert rkt.run_ok("status", uuid).out.startswith("state=prepared\n")
