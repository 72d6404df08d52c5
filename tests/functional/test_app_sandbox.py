"""Mutable pods on the coreos flavor: ``rkt app sandbox|add|start|stop|rm|list|status``, ``enter``,
``status``, ``stop`` and ``gc`` of sandboxes, CRI log files, and crash safety of ``rkt app add``."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Rkt, wait_for

COREOS = "--stage1-name=coreos"
CRI_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) (stdout|stderr) ([PF]) (.*)$")


class Sandbox:
    """A running ``rkt app sandbox`` and the ``rkt app`` commands on it."""

    def __init__(self, rkt: Rkt, proc: subprocess.Popen[str], uuid: str) -> None:
        self.rkt = rkt
        self.proc = proc
        self.uuid = uuid

    @property
    def path(self) -> Path:
        return self.rkt.data / "pods" / "run" / self.uuid

    def app(self, *args: str) -> Any:
        return self.rkt("app", *args)

    def ok(self, *args: str) -> str:
        r = self.rkt("--insecure-options=image", "app", *args)
        assert r.code == 0, str(r)
        return r.out

    def add(self, image: str, name: str, script: str, *flags: str) -> None:
        self.ok("add", self.uuid, image, f"--name={name}", "--exec=/bin/sh", *flags, "--", "-c", script)

    def apps(self) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for a in json.loads(self.ok("list", self.uuid, "--format=json"))}

    def status(self, name: str) -> dict[str, Any]:
        return json.loads(self.ok("status", self.uuid, f"--app={name}", "--format=json"))  # type: ignore[no-any-return]

    def wait_state(self, name: str, state: str) -> dict[str, Any]:
        return wait_for(lambda: (s := self.status(name))["state"] == state and s, what=f"{name} {state}")  # type: ignore[no-any-return]


def start_sandbox(rkt: Rkt, tmp_path: Path, *flags: str, wait: bool = True) -> Sandbox:
    uuid_file = tmp_path / "uuid"
    proc = rkt.popen("app", "sandbox", COREOS, f"--uuid-file-save={uuid_file}", *flags)
    uuid = wait_for(lambda: uuid_file.exists() and uuid_file.read_text(), what="the sandbox's uuid")
    sb = Sandbox(rkt, proc, uuid)
    if wait:
        wait_for(lambda: (sb.path / "stage1-data" / "control").exists(),
                 what="the sandbox's control socket")
    return sb


def test_sandbox_is_listed_at_once_and_stops_with_rkt_stop(rkt: Rkt, tmp_path: Path, busybox: str) -> None:
    sandbox = start_sandbox(rkt, tmp_path, "--net=host", wait=False)  # app commands wait for its supervisor
    listed = wait_for(lambda: (ps := json.loads(rkt.run_ok("list", "--format=json").out)) and
                      ps[0]["state"] == "running" and ps, timeout=5, what="the sandbox listed as running")
    assert [p["name"] for p in listed] == [sandbox.uuid]
    assert listed[0]["state"] == "running" and listed[0]["app_names"] == []
    sandbox.add(busybox, "one", "sleep 1000")
    sandbox.ok("start", sandbox.uuid, "--app=one")
    st = rkt.run_ok("status", sandbox.uuid).out
    assert "state=running" in st
    rkt.run_ok("stop", sandbox.uuid)
    _out, err = sandbox.proc.communicate(timeout=20)
    assert sandbox.proc.returncode == 0, err
    assert "state=exited" in rkt.run_ok("status", sandbox.uuid).out
    gc = rkt.run_ok("gc", "--grace-period=0s")
    assert sandbox.uuid in gc.out + gc.err
    assert not rkt.pods()


def test_apps_share_network_and_ipc_each_with_its_own_root(rkt: Rkt, tmp_path: Path, busybox: str) -> None:
    sandbox = start_sandbox(rkt, tmp_path)  # the default network: a namespace of the pod's own
    sandbox.add(busybox, "server", "echo from-a > /marker; nc -l -p 7777 > /tmp/got; sleep 1000")
    ns = "for n in ipc net uts; do /bin/busybox readlink /proc/self/ns/$n; done"
    sandbox.add(busybox, "other", f"{ns}; sleep 1000")
    for name in ("server", "other"):
        sandbox.ok("start", sandbox.uuid, f"--app={name}")
    sandbox.add(busybox, "client", f"until echo ping | nc 127.0.0.1 7777; do sleep 0.1; done; {ns}; "
                "test -e /marker && echo shared-root || echo own-root")
    sandbox.ok("start", sandbox.uuid, "--app=client")
    st = sandbox.wait_state("client", "exited")
    assert st["exit_code"] == 0
    log = (sandbox.path / "logs" / "client.log").read_text()
    assert "own-root" in log
    ids = [line.split()[-1] for line in log.splitlines() if ":[" in line]
    deadline = time.monotonic() + 10  # the other app's lines and the server's file are written as they come
    while True:
        other = [line.split()[-1] for line in (sandbox.path / "logs" / "other.log").read_text().splitlines()]
        r = sandbox.rkt("enter", "--app=server", sandbox.uuid, "/bin/cat", "/tmp/got", "/marker")
        if (len(other) >= 3 and "ping" in r.out) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(ids) == 3 and ids == other  # one IPC, network and UTS namespace for the pod's apps
    assert ids[0] != os.readlink("/proc/self/ns/ipc") and ids[1] != os.readlink("/proc/self/ns/net")
    assert r.code == 0 and "ping" in r.out and "from-a" in r.out, str(r)
    assert {a["state"] for a in sandbox.apps().values()} == {"running", "exited"}
    rkt.run_ok("stop", sandbox.uuid)
    sandbox.proc.communicate(timeout=20)


def test_add_start_stop_rm_in_any_order_and_readd(sandbox: Sandbox, busybox: str) -> None:
    uuid = sandbox.uuid
    sandbox.add(busybox, "a", "trap 'exit 7' TERM; while :; do sleep 0.05; done")
    assert sandbox.status("a")["state"] == "created"
    r = sandbox.rkt("app", "add", uuid, busybox, "--name=a", "--insecure-options=image")
    assert r.code == 254 and 'already has an app "a"' in r.err
    r = sandbox.app("stop", uuid, "--app=a")
    assert r.code == 0, str(r)  # stopping an app that does not run is not an error
    sandbox.ok("start", uuid, "--app=a")
    st = sandbox.wait_state("a", "running")
    assert st["pid"] > 1 and st["started_at"] >= st["created_at"]
    r = sandbox.app("start", uuid, "--app=a")
    assert r.code == 254 and "already running" in r.err
    sandbox.ok("stop", uuid, "--app=a")
    st = sandbox.status("a")
    assert st["state"] == "exited" and st["exit_code"] == 7 and "pid" not in st and st["finished_at"]
    sandbox.ok("start", uuid, "--app=a")  # again, after it exited
    assert sandbox.wait_state("a", "running")["pid"] != st.get("pid")
    sandbox.ok("rm", uuid, "--app=a")  # stops it first
    assert sandbox.apps() == {}
    assert not (sandbox.path / "apps" / "a").exists() and not (sandbox.path / "appsinfo" / "a").exists()
    r = sandbox.app("status", uuid, "--app=a")
    assert r.code == 254 and 'no app "a"' in r.err
    sandbox.add(busybox, "a", "echo second; exit 0")
    assert sandbox.status("a")["state"] == "created"
    sandbox.ok("start", uuid, "--app=a")
    assert sandbox.wait_state("a", "exited")["exit_code"] == 0
    sandbox.ok("rm", uuid, "--app=a")
    r = sandbox.app("rm", uuid, "--app=a")
    assert r.code == 254 and 'no app "a"' in r.err


def _start_imports(sb: Sandbox, app: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``rkt app start`` (by a UUID prefix) under ``-X importtime``: the result and the modules it imported."""
    import sys

    from tests.functional.conftest import RKT

    argv = [sys.executable, "-X", "importtime", str(RKT), f"--dir={sb.rkt.data}", "app", "start", sb.uuid[:8],
            "--app", app]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    return p, set(re.findall(r"^import time:.*\|\s*(\S+)$", p.stderr, re.M))


def test_app_start_is_served_by_the_supervisor_without_loading_the_flavor(sandbox: Sandbox, busybox: str) -> None:
    """coreos claims the app control socket: ``app start`` sends one line and imports next to nothing."""
    assert json.loads((sandbox.path / "stage1").read_text())["controlSocket"] is True
    sandbox.add(busybox, "q", "exit 3")
    p, imported = _start_imports(sandbox, "q")
    assert p.returncode == 0, p.stderr
    assert sandbox.wait_state("q", "exited")["exit_code"] == 3
    assert "rkt_sdk.appcontrol" in imported
    heavy = {"pathlib", "json", "re", "enum", "rkt.podflow.apps", "rkt.stage1.loader", "rkt_stage1_coreos"}
    assert not imported & heavy, imported & heavy
    # what the supervisor refuses reads as the usual path's errors
    r = sandbox.app("start", sandbox.uuid, "--app=nope")
    assert (r.code, r.err) == (254, f'app: pod "{sandbox.uuid}" has no app "nope"\n')
    sandbox.add(busybox, "long", "sleep 30")
    sandbox.ok("start", sandbox.uuid, "--app=long")
    r = sandbox.app("start", sandbox.uuid, "--app=long")
    assert (r.code, r.err) == (254, f'app: app "long" of pod "{sandbox.uuid}" is already running\n')
    # a pod whose record does not claim the socket (made by an older rkt) is started through the flavor's hook
    record = json.loads((sandbox.path / "stage1").read_text())
    del record["controlSocket"]
    (sandbox.path / "stage1").write_text(json.dumps(record))
    p, imported = _start_imports(sandbox, "q")
    assert p.returncode == 0, p.stderr
    assert {"rkt.podflow.apps", "rkt_stage1_coreos.apps"} <= imported
    assert sandbox.wait_state("q", "exited")["exit_code"] == 3


def _supervisor_children(sb: Sandbox) -> list[int]:
    pid = int((sb.path / "pid").read_text())
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_an_added_apps_child_waits_for_its_start_and_goes_with_rm(sandbox: Sandbox, busybox: str) -> None:
    """``app add`` has the supervisor set the app's child up ahead, waiting for ``app start``; ``rm`` kills
    it, and a start whose prepared child died starts the app anew."""
    uuid = sandbox.uuid
    sandbox.add(busybox, "a", "exit 3")
    wait_for(lambda: len(_supervisor_children(sandbox)) == 1, what="the prepared child")
    assert sandbox.status("a")["state"] == "created"
    sandbox.ok("rm", uuid, "--app=a")
    assert _supervisor_children(sandbox) == []
    sandbox.add(busybox, "b", "exit 4")
    child = wait_for(lambda: _supervisor_children(sandbox), what="the prepared child")[0]
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: not _supervisor_children(sandbox), what="the prepared child reaped")
    sandbox.ok("start", uuid, "--app=b")
    assert sandbox.wait_state("b", "exited")["exit_code"] == 4
    sandbox.add(busybox, "c", "exit 5")
    wait_for(lambda: _supervisor_children(sandbox), what="the prepared child")
    sandbox.ok("start", uuid, "--app=c")
    assert sandbox.wait_state("c", "exited")["exit_code"] == 5


def test_a_prepared_child_waits_as_the_apps_user_and_execs_with_its_caps_and_filter(
        sandbox: Sandbox, busybox: str) -> None:
    """The child set up ahead waits as the app's user, without the app's seccomp filter; the app
    runs with its user, capabilities and filter all the same, and a change of the manifest in
    between (another app added) is seen by the start."""
    script = "id -u; id -g; grep -E '^(CapBnd|Seccomp):' /proc/self/status"
    sandbox.add(busybox, "who", script, "--user=1000", "--group=1000", "--caps-retain=CAP_NET_BIND_SERVICE",
                "--seccomp=mode=remove,reboot")
    child = wait_for(lambda: _supervisor_children(sandbox), what="the prepared child")[0]
    status = wait_for(lambda: "Uid:\t1000" in (t := Path(f"/proc/{child}/status").read_text()) and t,
                      what="the prepared child as the app's user")
    assert re.search(r"^Seccomp:\s+0$", status, re.M), status
    sandbox.add(busybox, "other", "exit 0")  # the pod manifest changes before the start
    sandbox.ok("start", sandbox.uuid, "--app=who")
    assert sandbox.wait_state("who", "exited")["exit_code"] == 0
    log = sandbox.path / "logs" / "who.log"
    text = wait_for(lambda: "Seccomp" in (t := log.read_text()) and t, what="the app's output")
    out = [line.split(" ", 3)[3] for line in text.splitlines()]
    assert out[:2] == ["1000", "1000"]
    assert "CapBnd:\t0000000000000400" in out and "Seccomp:\t2" in out, out


def test_an_app_that_exits_does_not_end_the_sandbox(sandbox: Sandbox, busybox: str) -> None:
    sandbox.add(busybox, "long", "sleep 1000")
    sandbox.add(busybox, "short", "exit 5")
    sandbox.ok("start", sandbox.uuid, "--app=long")
    sandbox.ok("start", sandbox.uuid, "--app=short")
    assert sandbox.wait_state("short", "exited")["exit_code"] == 5
    time.sleep(0.3)
    assert sandbox.proc.poll() is None
    assert sandbox.status("long")["state"] == "running"


def test_app_stop_kills_after_the_timeout(sandbox: Sandbox, busybox: str) -> None:
    sandbox.add(busybox, "stubborn", "trap '' TERM; while :; do sleep 0.05; done")
    sandbox.ok("start", sandbox.uuid, "--app=stubborn")
    sandbox.wait_state("stubborn", "running")
    t = time.monotonic()
    sandbox.ok("stop", sandbox.uuid, "--app=stubborn", "--timeout=0.5")
    took = time.monotonic() - t
    assert 0.5 <= took < 5
    assert sandbox.status("stubborn")["exit_code"] == 137


def test_app_stop_signals_every_process_of_the_app(sandbox: Sandbox, busybox: str) -> None:
    """SIGTERM reaches the whole app, as systemd's KillMode=control-group did: a shell waiting for a
    child acts on its trap at once instead of after the child (or the SIGKILL at the timeout)."""
    sandbox.add(busybox, "waits", "trap 'exit 7' TERM; sleep 30")
    sandbox.ok("start", sandbox.uuid, "--app=waits")
    sandbox.wait_state("waits", "running")
    time.sleep(0.2)  # the shell is in wait(2) for sleep
    t = time.monotonic()
    sandbox.ok("stop", sandbox.uuid, "--app=waits", "--timeout=20")
    assert time.monotonic() - t < 5
    assert sandbox.status("waits")["exit_code"] == 7


def test_cri_log_lines_with_partial_lines(sandbox: Sandbox, busybox: str) -> None:
    script = "echo one; echo -n par; sleep 0.3; echo tial; echo two >&2; echo -n 'no newline at the end'"
    sandbox.add(busybox, "logger", script)
    sandbox.ok("start", sandbox.uuid, "--app=logger")
    sandbox.wait_state("logger", "exited")
    log = sandbox.path / "logs" / "logger.log"
    lines = wait_for(lambda: "the end\n" in (t := log.read_text()) and "two" in t and t.splitlines(), what="the log")
    parsed = [CRI_LINE.match(line) for line in lines]
    assert all(parsed), lines
    entries = [(m.group(3), m.group(4), m.group(5)) for m in parsed if m]
    assert ("stdout", "F", "one") in entries
    assert ("stderr", "F", "two") in entries
    stdout = [e for e in entries if e[0] == "stdout"]
    assert stdout == [("stdout", "F", "one"), ("stdout", "P", "par"), ("stdout", "F", "tial"),
                      ("stdout", "P", "no newline at the end")]
    stamps = [m.group(1) for m in parsed if m]
    assert stamps == sorted(stamps, key=lambda s: s.replace("Z", "").ljust(29, "0"))


def test_log_file_reopened_on_request(sandbox: Sandbox, busybox: str) -> None:
    sandbox.add(busybox, "ticker", "while :; do echo tick; sleep 0.05; done")
    sandbox.ok("start", sandbox.uuid, "--app=ticker")
    log = sandbox.path / "logs" / "ticker.log"
    wait_for(lambda: log.exists() and "tick" in log.read_text(), what="the first lines")
    rotated = log.with_name("ticker.log.1")
    log.rename(rotated)  # what a log rotator does; the app's lines still go to the moved file
    time.sleep(0.2)
    assert not log.exists()
    sandbox.ok("reopen-log", sandbox.uuid, "--app=ticker")
    wait_for(lambda: log.exists() and "stdout F tick" in log.read_text(), what="lines in the reopened file")
    before = rotated.read_text()
    time.sleep(0.2)
    assert rotated.read_text() == before  # nothing goes to the moved file any more


def test_app_flags_stdio_modes_and_errors(sandbox: Sandbox, busybox: str) -> None:
    uuid = sandbox.uuid
    sandbox.add(busybox, "quiet", "echo hidden", "--stdout=null", "--stderr=null", "--environment=BAR=flag",
                "--user=1000", "--group=1000")
    st = sandbox.status("quiet")
    assert (st["stdin"], st["stdout"], st["stderr"]) == ("null", "null", "null")
    sandbox.ok("start", uuid, "--app=quiet")
    sandbox.wait_state("quiet", "exited")
    assert not (sandbox.path / "logs" / "quiet.log").exists()
    r = sandbox.rkt("--insecure-options=image", "app", "add", uuid, busybox, "--name=bad", "--user=nosuchuser")
    errors = [line for line in r.err.splitlines() if not line.startswith("warning:")]
    assert r.code == 254 and len(errors) == 1 and "nosuchuser" in errors[0], str(r)
    assert "bad" not in sandbox.apps() and not (sandbox.path / "apps" / "bad").exists()
    r = sandbox.rkt("--insecure-options=image", "app", "add", uuid, busybox, "--name=t", "--stdin=tty")
    assert r.code == 254 and "--stdout=tty" in r.err
    r = sandbox.app("start", uuid, "--app=nosuch")
    assert r.code == 254 and 'no app "nosuch"' in r.err
    r = sandbox.app("start", uuid)
    assert r.code == 254 and "--app" in r.err


def test_app_commands_need_a_running_sandbox(rkt: Rkt, busybox: str) -> None:
    r = rkt("--insecure-options=image", "run", COREOS, "--net=host", busybox, "--exec=/bin/true")
    assert r.code == 0, str(r)
    uuid = json.loads(rkt.run_ok("list", "--format=json").out)[0]["name"]
    r = rkt("app", "list", uuid)
    assert r.code == 254 and "not running" in r.err


def test_fly_cannot_run_a_sandbox(rkt: Rkt) -> None:
    r = rkt("app", "sandbox", "--stage1-name=fly")
    assert r.code == 254
    assert "fly flavor cannot run mutable pods" in r.err and len(r.err.strip().splitlines()) == 1
    assert not rkt.pods()


def test_rkt_experiment_app_is_accepted(rkt: Rkt, tmp_path: Path) -> None:
    env = dict(os.environ, RKT_EXPERIMENT_APP="true")
    r = rkt("app", "sandbox", "--stage1-name=fly", env=env)
    assert r.code == 254 and "mutable" in r.err


@pytest.mark.slow
def test_kill_9_of_app_add_at_random_points_leaves_the_pod_consistent(sandbox: Sandbox, busybox: str) -> None:
    rng = random.Random(16)
    names = set()
    for i in range(12):
        p = subprocess.Popen(sandbox.rkt.argv(("--insecure-options=image", "app", "add", sandbox.uuid, busybox,
                                              f"--name=k{i}", "--exec=/bin/sleep", "--", "1000")),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        apps = sandbox.apps()  # the next command works, and sees the app or not
        names = set(apps)
        for name in names:
            assert (sandbox.path / "apps" / name / "rootfs").is_dir()
    sandbox.add(busybox, "after", "sleep 1000")  # a changing command releases what the kills left
    sandbox.ok("start", sandbox.uuid, "--app=after")
    apps = sandbox.apps()
    assert set(apps) == names | {"after"}
    on_disk = {p.name for d in ("apps", "appsinfo", "overlay") if (sandbox.path / d).is_dir()
               for p in (sandbox.path / d).iterdir()}
    assert on_disk == set(apps)
    with open("/proc/self/mountinfo") as f:
        mounted = {line.split(" ")[4].split("/apps/")[1].split("/")[0] for line in f
                   if f"{sandbox.uuid}/apps/" in line}
    assert mounted == set(apps)


def test_sandbox_takes_the_pod_flags_of_run(rkt: Rkt, tmp_path: Path, busybox: str) -> None:
    host_dir = tmp_path / "shared"
    host_dir.mkdir()
    sb = start_sandbox(rkt, tmp_path, "--net=host", "--hostname=sandbox-one", "--hosts-entry=10.1.2.3=db",
                       f"--volume=data,kind=host,source={host_dir}", "--annotation=team=infra")
    manifest = json.loads(rkt.run_ok("cat-manifest", sb.uuid).out)
    assert {"name": "team", "value": "infra"} in manifest["annotations"]
    sb.add(busybox, "a", "hostname > /data/host; grep -w db /etc/hosts >> /data/host",
           "--mount=volume=data,target=/data")
    sb.ok("start", sb.uuid, "--app=a")
    assert sb.wait_state("a", "exited")["exit_code"] == 0
    assert (host_dir / "host").read_text().split()[:3] == ["sandbox-one", "10.1.2.3", "db"]
    r = sb.rkt("--insecure-options=image", "app", "add", sb.uuid, busybox, "--name=b", "--mount=volume=nope,target=/x")
    assert r.code == 254 and 'volume "nope"' in r.err, str(r)
    rkt.run_ok("stop", sb.uuid)
    sb.proc.communicate(timeout=20)
