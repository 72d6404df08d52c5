"""A flavor whose app outlives the rkt process (fixture flavor ``outside``): status, stop, gc.

Also: ``stop`` and ``status`` get the flavor's per-host settings, and the stop hook's ``timeout``
is the pod's one recorded stop timeout (replaced by ``rkt stop --timeout``). And a flavor of the
previous interface version (fixture ``old``) still runs and stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dists import FIXTURES, installed
from tests.support.aci import build_aci

pytestmark = [pytest.mark.root, pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="runs pods: needs root")]

RKT = str(Path(sys.executable).with_name("rkt"))
LOOP = "while :; do sleep 0.1; done"


@pytest.fixture(scope="module")
def flavors() -> Iterator[list[str]]:
    with installed(FIXTURES / "rkt-stage1-outside", FIXTURES / "rkt-stage1-old") as names:
        yield names


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_aci(tmp_path_factory.mktemp("img") / "busybox.aci", "example.com/outside")


class Rkt:
    def __init__(self, tmp: Path) -> None:
        self.data = tmp / "data"
        self.cfg = tmp / "cfg"
        self.procs: list[subprocess.Popen[str]] = []

    def argv(self, *args: str) -> list[str]:
        return [RKT, f"--dir={self.data}", f"--local-config={self.cfg}", f"--system-config={self.cfg}/none",
                "--insecure-options=image", *args]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def start(self, *args: str) -> subprocess.Popen[str]:
        # output to a file, not a pipe: an app that outlives rkt keeps its end of a pipe open
        with open(self.data.parent / f"rkt-{len(self.procs)}.out", "w") as out:
            p = subprocess.Popen(self.argv(*args), text=True, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        return p

    def status(self, uuid: str) -> dict[str, object]:
        r = self("status", "--format=json", uuid)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)  # type: ignore[no-any-return]

    def pod_dir(self, uuid: str) -> Path:
        return next((self.data / "pods").glob(f"*/{uuid}"))

    def settings(self, flavor: str, **values: object) -> None:
        d = self.cfg / "stage1.d"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{flavor}.json").write_text(json.dumps({"rktKind": "stage1", "rktVersion": "v1", "name": flavor,
                                                       "settings": {flavor: values}}))


@pytest.fixture
def rkt(tmp_path: Path) -> Iterator[Rkt]:
    r = Rkt(tmp_path)
    yield r
    for p in r.procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    for pod in (r.data / "pods").glob("run/*"):  # apps that outlived rkt: gc leaves them running
        r("stop", "--force", pod.name)
    for _ in range(2):
        r("gc", "--grace-period=0s")
    assert not list((r.data / "pods").glob("*/*")), "pods left after gc"


def _wait(pred: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start(rkt: Rkt, image: Path, tmp_path: Path, script: str) -> tuple[subprocess.Popen[str], str, int]:
    uuid_file = tmp_path / "uuid"
    p = rkt.start("run", "--stage1-name=outside", f"--uuid-file-save={uuid_file}", str(image), "--exec=/bin/sh",
                  "--", "-c", script)
    _wait(lambda: uuid_file.exists() and uuid_file.read_text(), "the pod's uuid")
    uuid = uuid_file.read_text().strip()
    pid_file = rkt.pod_dir(uuid) / "stage1-data" / "app.pid"
    _wait(pid_file.exists, "the app to start")
    return p, uuid, int(pid_file.read_text())


def test_status_shows_running_while_the_flavor_reports_the_app_running(flavors: list[str], rkt: Rkt, image: Path,
                                                                       tmp_path: Path) -> None:
    rkt.settings("outside", **{"stop-signal": "INT"})
    p, uuid, app = _start(rkt, image, tmp_path, f"trap 'exit 9' INT; {LOOP}")
    assert rkt.status(uuid)["state"] == "running"
    os.killpg(p.pid, signal.SIGKILL)  # rkt, the lock's only holder, dies; the app lives on
    p.wait(timeout=30)
    time.sleep(0.3)
    assert _alive(app)

    doc = rkt.status(uuid)
    assert doc["state"] == "running", doc
    assert doc["stage1_status"] == {"running": True, "app-pid": app, "stop-signal": "INT"}, doc  # settings reach it
    text = rkt("status", uuid).stdout.splitlines()
    assert "state=running" in text and "exited=false" in text, text

    gc = rkt("gc", "--grace-period=0s")
    assert gc.returncode == 0 and "reports apps still running" in gc.stderr, gc.stderr
    assert _alive(app) and rkt.status(uuid)["state"] == "running"

    stop = rkt("stop", uuid)
    assert stop.returncode == 0, stop.stderr
    _wait(lambda: not _alive(app), "the app to end on the configured stop signal")
    seen = json.loads((rkt.pod_dir(uuid) / "stage1-data" / "stop.json").read_text())
    assert seen == {"force": False, "timeout": 10.0, "signal": "SIGINT"}, seen
    assert rkt.status(uuid)["state"] == "exited"


def test_stop_timeout_is_one_value(flavors: list[str], rkt: Rkt, image: Path, tmp_path: Path) -> None:
    p, uuid, _app = _start(rkt, image, tmp_path, f"trap '' TERM; {LOOP}")
    assert (rkt.pod_dir(uuid) / "stop-timeout").read_text().strip() == "10.0"  # RunOptions.stop_timeout, recorded
    t0 = time.monotonic()
    stop = rkt("stop", "--timeout=1", uuid)
    assert stop.returncode == 0, stop.stderr
    r = p.wait(timeout=30)
    elapsed = time.monotonic() - t0
    assert p.returncode == 137, r  # SIGKILL after the grace: 128 + 9
    assert 0.9 < elapsed < 8, elapsed
    pd = rkt.pod_dir(uuid)
    assert json.loads((pd / "stage1-data" / "stop.json").read_text())["timeout"] == 1.0
    assert (pd / "stop-timeout").read_text().strip() == "1.0"  # what a supervisor reads: the same value


def test_flavor_of_the_previous_interface_runs_and_stops(flavors: list[str], rkt: Rkt, image: Path,
                                                         tmp_path: Path) -> None:
    listing = {f["name"]: f for f in json.loads(rkt("flavors", "--format=json").stdout)}
    assert listing["old"]["interfaceVersion"] == 1 and not listing["old"]["broken"]
    uuid_file = tmp_path / "uuid"
    p = rkt.start("run", "--stage1-name=old", f"--uuid-file-save={uuid_file}", str(image), "--exec=/bin/sh", "--",
                  "-c", "exec sleep 600")
    _wait(lambda: uuid_file.exists() and uuid_file.read_text(), "the pod's uuid")
    uuid = uuid_file.read_text().strip()
    _wait(lambda: rkt.status(uuid)["state"] == "running" and (rkt.pod_dir(uuid) / "pid").exists(), "the pod")
    stop = rkt("stop", "--force", uuid)  # the old stop hook takes (pod, force): settings and timeout are not passed
    assert stop.returncode == 0, stop.stderr
    p.wait(timeout=30)
    assert rkt.status(uuid)["state"] == "exited"
