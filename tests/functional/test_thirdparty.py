"""Third-party flavors, installed from fixture distributions and the example, driven through the CLI.

The module installs the example flavor (examples/rkt-stage1-hello) and the fixture flavors
tiny, broken, future and old into the virtualenv, and uninstalls them at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dists import EXAMPLES, FIXTURES, installed
from tests.support.aci import build_aci

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="runs pods: needs root")

RKT = str(Path(sys.executable).with_name("rkt"))


@pytest.fixture(scope="module")
def thirdparty() -> Iterator[list[str]]:
    fixtures = [FIXTURES / f"rkt-stage1-{n}" for n in ("tiny", "broken", "future", "old")]
    sources = [EXAMPLES / "rkt-stage1-hello", *fixtures]
    with installed(*sources) as names:
        yield names


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("img")
    return build_aci(d / "busybox.aci", "example.com/thirdparty", env={"GREETING": "from the image"})


@pytest.fixture
def rkt(tmp_path: Path) -> Iterator[object]:
    data = tmp_path / "data"
    cfg = tmp_path / "cfg"

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RKT, f"--dir={data}", f"--local-config={cfg}", f"--system-config={cfg}/none",
                               "--insecure-options=image", *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    run.data = data  # type: ignore[attr-defined]
    run.cfg = cfg  # type: ignore[attr-defined]
    yield run
    run("gc", "--grace-period=0s")
    run("gc", "--grace-period=0s")
    with open("/proc/self/mountinfo") as f:
        left = [ln.split()[4] for ln in f if str(data) in ln.split()[4]]
    assert not left, f"mounts left: {left}"


def _flavors(rkt: object) -> dict[str, dict[str, object]]:
    r = rkt("flavors", "--format=json")  # type: ignore[operator]
    assert r.returncode == 0, r.stderr
    return {f["name"]: f for f in json.loads(r.stdout)}


def test_example_flavor_runs_a_pod(thirdparty: list[str], rkt: object, image: Path) -> None:
    r = rkt("run", "--stage1-name=hello", str(image), "--exec=/bin/sh", "--", "-c",  # type: ignore[operator]
            'echo "$GREETING"; exit 7')
    assert r.returncode == 7, r.stderr
    assert r.stdout.splitlines() == ["from the image"]


def test_example_flavor_settings_from_host_config(thirdparty: list[str], rkt: object, image: Path) -> None:
    d = rkt.cfg / "stage1.d"  # type: ignore[attr-defined]
    d.mkdir(parents=True)
    (d / "hello.json").write_text(json.dumps({"rktKind": "stage1", "rktVersion": "v1", "name": "hello",
                                              "settings": {"hello": {"greeting": "hello from the config"}}}))
    r = rkt("run", str(image), "--exec=/bin/true")  # type: ignore[operator]
    assert r.returncode == 0, r.stderr
    assert "hello from the config" in r.stderr.splitlines()


def test_example_flavor_passes_the_conformance_kit(thirdparty: list[str]) -> None:
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rkt-flavor=hello",
                        "-o", "addopts=", "--rootdir", str(EXAMPLES / "rkt-stage1-hello")],
                       capture_output=True, text=True, timeout=900, cwd=EXAMPLES / "rkt-stage1-hello")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and "failed" not in r.stdout


def test_tiny_fixture_flavor_runs_a_pod(thirdparty: list[str], rkt: object, image: Path) -> None:
    r = rkt("run", "--stage1-name=tiny", str(image), "--exec=/bin/sh", "--", "-c",  # type: ignore[operator]
            'echo "tiny: $GREETING"; exit 3')
    assert r.returncode == 3, r.stderr
    assert "tiny: from the image" in r.stdout


def test_broken_flavor_reported_by_name_others_still_work(thirdparty: list[str], rkt: object, image: Path) -> None:
    flavors = _flavors(rkt)
    broken = flavors["broken"]
    assert broken["broken"] is True
    assert "rkt-stage1-broken" in str(broken["error"]) and "ModuleNotFoundError" in str(broken["error"])
    for ok in ("fly", "hello", "tiny", "old"):
        assert flavors[ok]["broken"] is False, flavors[ok]
    text = rkt("flavors")  # type: ignore[operator]
    assert text.returncode == 0
    line = next(ln for ln in text.stdout.splitlines() if ln.startswith("broken "))
    assert "broken: " in line and "rkt-stage1-broken" in line

    r = rkt("run", "--stage1-name=broken", str(image), "--exec=/bin/true")  # type: ignore[operator]
    assert r.returncode == 254
    assert "rkt-stage1-broken" in r.stderr and "No module named" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

    # the other flavors, list and gc are unaffected
    r = rkt("run", "--stage1-name=fly", str(image), "--exec=/bin/sh", "--", "-c", "exit 4")  # type: ignore[operator]
    assert r.returncode == 4, r.stderr
    listed = rkt("list", "--format=json")  # type: ignore[operator]
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1, listed.stderr
    gc = rkt("gc", "--grace-period=0s")  # type: ignore[operator]
    assert gc.returncode == 0, gc.stderr
    assert rkt("gc", "--grace-period=0s").returncode == 0  # type: ignore[operator]
    assert json.loads(rkt("list", "--format=json").stdout) in ([], None)  # type: ignore[operator]


def test_future_flavor_refused_with_versions(thirdparty: list[str], rkt: object, image: Path) -> None:
    r = rkt("run", "--stage1-name=future", str(image), "--exec=/bin/true")  # type: ignore[operator]
    assert r.returncode == 254
    msg = r.stderr.strip()
    assert "rkt-stage1-future 2.0.0" in msg and "interface version 99" in msg and "upgrade rkt" in msg, msg
    assert not list((rkt.data / "pods").glob("*/*")) if (rkt.data / "pods").exists() else True  # type: ignore[attr-defined]
    entry = _flavors(rkt)["future"]
    assert entry["broken"] is True and "interface version 99" in str(entry["error"])


def test_old_flavor_keeps_working(thirdparty: list[str], rkt: object, image: Path) -> None:
    entry = _flavors(rkt)["old"]
    assert entry["broken"] is False and entry["canRun"] is True and entry["interfaceVersion"] == 1
    r = rkt("run", "--stage1-name=old", str(image), "--exec=/bin/sh", "--", "-c",  # type: ignore[operator]
            'echo "old: $GREETING"; exit 5')
    assert r.returncode == 5, r.stderr
    assert "old: from the image" in r.stdout
    assert rkt("gc", "--grace-period=0s").returncode == 0  # type: ignore[operator]


def test_old_flavor_cannot_run_a_sandbox(thirdparty: list[str], rkt: object) -> None:
    """A flavor of interface 1 (no app hooks, no mutable capability) still loads; ``rkt app`` says it cannot."""
    r = rkt("app", "sandbox", "--stage1-name=old")  # type: ignore[operator]
    assert r.returncode == 254
    assert r.stderr.strip() == ("app: the old flavor cannot run mutable pods ('rkt app' needs a flavor whose "
                                "capabilities include mutable pods, such as coreos; see 'rkt flavors')")
    assert not list((rkt.data / "pods").glob("*/*")) if (rkt.data / "pods").exists() else True  # type: ignore[attr-defined]
