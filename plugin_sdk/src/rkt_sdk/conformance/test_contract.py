"""The conformance tests: a flavor as a user sees it through ``rkt``.

Collected when pytest runs with ``--rkt-flavor=NAME`` (see :mod:`rkt_sdk.conformance.plugin`).
Each test drives ``rkt`` on its own data directory and leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.conformance.driver import Result, RktDriver
from rkt_sdk.conformance.plugin import MARKER

VALID_NET_MODES = {"host", "none", "contained"}
VALID_ATTACHMENTS = {"netns", "tap", "host"}


@dataclass(frozen=True)
class Kit:
    """What a conformance test works with: rkt on a fresh data dir, the images, the flavor and its claims."""

    rkt: RktDriver
    images: dict[str, Path]
    flavor: str
    caps: dict[str, Any]
    net_flags: list[str]

    @property
    def pod_flags(self) -> list[str]:
        """``--stage1-name`` and a ``--net`` needing no network set-up."""
        return [f"--stage1-name={self.flavor}", *self.net_flags]

    def run(self, *args: str) -> Result:
        return self.rkt("--insecure-options=image", "run", *args)

    def run_app(self, script: str, *args: str, pod: tuple[str, ...] = (), app: tuple[str, ...] = ()) -> Result:
        """``rkt run [pod flags] main-image --exec=/bin/sh [app] -- -c SCRIPT sh ARGS...``."""
        return self.run(*self.pod_flags, *pod, str(self.images["main"]), "--exec=/bin/sh", *app,
                        "--", "-c", script, "sh", *args)


@pytest.fixture
def kit(rkt_driver: RktDriver, rkt_images: dict[str, Path], rkt_flavor: str, rkt_capabilities: dict[str, Any],
        rkt_net_flags: list[str]) -> Kit:
    return Kit(rkt_driver, rkt_images, rkt_flavor, rkt_capabilities, rkt_net_flags)


def expect(r: Result, code: int = 0) -> Result:
    assert r.returncode == code, f"expected exit code {code}\n{r.describe()}"
    return r


# --- what the flavor says of itself ------------------------------------------------------


def test_listed_and_not_broken(rkt_flavor_report: dict[str, Any], rkt_flavor: str) -> None:
    assert rkt_flavor_report["name"] == rkt_flavor
    assert not rkt_flavor_report["broken"], f"rkt flavors reports the flavor broken: {rkt_flavor_report['error']}"
    assert rkt_flavor_report["distribution"], "the flavor's distribution is unnamed"
    assert isinstance(rkt_flavor_report["version"], str) and rkt_flavor_report["version"]


def test_interface_version_supported(rkt_flavor_report: dict[str, Any]) -> None:
    from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION

    iv = rkt_flavor_report["interfaceVersion"]
    assert isinstance(iv, int) and MIN_INTERFACE_VERSION <= iv <= INTERFACE_VERSION, iv


def test_capabilities_well_formed(rkt_capabilities: dict[str, Any]) -> None:
    modes = set(rkt_capabilities["networkModes"])
    assert modes, "the flavor supports no network mode"
    assert modes <= VALID_NET_MODES, f"unknown network modes: {modes - VALID_NET_MODES}"
    assert rkt_capabilities["networkAttachment"] in VALID_ATTACHMENTS
    isolators = rkt_capabilities["isolators"]
    assert all(isinstance(i, str) and "/" in i for i in isolators), isolators


def test_host_check_answers(rkt_flavor_report: dict[str, Any]) -> None:
    assert isinstance(rkt_flavor_report["canRun"], bool)
    assert all(isinstance(w, str) and w for w in rkt_flavor_report["warnings"])
    if not rkt_flavor_report["canRun"]:
        assert rkt_flavor_report["reason"].strip(), "a flavor that cannot run here must say why"


# --- running pods ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_code_propagates(kit: Kit, code: int) -> None:
    expect(kit.run_app(f"exit {code}"), code)


def test_arguments_reach_the_app(kit: Kit) -> None:
    r = expect(kit.run_app('for a in "$@"; do echo "arg=[$a]"; done', "one two", "three"))
    got = [ln for ln in r.lines() if ln.startswith("arg=")]
    assert got == ["arg=[one two]", "arg=[three]"], r.describe()


def test_environment(kit: Kit) -> None:
    r = expect(kit.run_app('echo "image=$FROM_IMAGE"; echo "flag=$FROM_FLAG"; echo "path=$PATH"',
                           pod=("--set-env=FROM_FLAG=flag value",)))
    lines = r.lines()
    assert "image=image" in lines, r.describe()
    assert "flag=flag value" in lines, r.describe()
    assert any(ln.startswith("path=") and "/bin" in ln for ln in lines), r.describe()


def test_image_files_visible(kit: Kit) -> None:
    r = expect(kit.run_app("cat /etc/conformance"))
    assert MARKER in r.lines(), r.describe()


def _volume(name: str, host: Path, target: str, read_only: bool = False) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pod and app flags mounting ``host`` at ``target``."""
    ro = ",readOnly=true" if read_only else ""
    return (f"--volume={name},kind=host,source={host}{ro}",), (f"--mount=volume={name},target={target}",)


def test_volume_read_write(kit: Kit, tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    (host / "from-host").write_text("hello from the host\n")
    pod, app = _volume("vol", host, "/vol")
    r = expect(kit.run_app("cat /vol/from-host && echo written > /vol/from-app", pod=pod, app=app))
    assert "hello from the host" in r.lines(), r.describe()
    assert (host / "from-app").read_text().strip() == "written"


def test_volume_read_only(kit: Kit, tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    (host / "from-host").write_text("read me\n")
    pod, app = _volume("vol", host, "/vol", read_only=True)
    r = expect(kit.run_app("cat /vol/from-host; if echo x > /vol/from-app; then exit 0; else exit 9; fi",
                           pod=pod, app=app), 9)
    assert "read me" in r.lines(), r.describe()
    assert not (host / "from-app").exists()


def _start_sleeper(kit: Kit, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start a pod whose app signals it started (a file in a host volume), then sleeps."""
    host = tmp_path / "signal"
    host.mkdir()
    uuid_file = tmp_path / "uuid"
    pod, app = _volume("sig", host, "/sig")
    p = kit.rkt.start("--insecure-options=image", "run", *kit.pod_flags, f"--uuid-file-save={uuid_file}", *pod,
                      str(kit.images["main"]), *app, "--exec=/bin/sh", "--", "-c",
                      "touch /sig/started; exec sleep 600")
    if not kit.rkt.wait_for(host / "started"):
        p.kill()
        res = kit.rkt.finish(p, timeout=30)
        pytest.fail(f"the app did not start within {kit.rkt.timeout}s\n{res.describe()}")
    return p, uuid_file.read_text().strip()


@pytest.mark.parametrize("force", [False, True], ids=["graceful", "force"])
def test_stop(kit: Kit, tmp_path: Path, force: bool) -> None:
    p, uuid = _start_sleeper(kit, tmp_path)
    expect(kit.rkt("stop", *(["--force"] if force else []), uuid))
    try:
        kit.rkt.finish(p, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("rkt run did not end within 120s of rkt stop")
    status = kit.rkt.json("status", "--format=json", uuid)
    assert status["state"] == "exited", status


@pytest.mark.rkt_capability("enter")
def test_enter(kit: Kit, tmp_path: Path) -> None:
    if not kit.caps["enter"]:
        pytest.skip("the flavor does not claim rkt enter")
    p, uuid = _start_sleeper(kit, tmp_path)
    r = expect(kit.rkt("enter", uuid, "/bin/sh", "-c", 'cat /etc/conformance; echo "image=$FROM_IMAGE"; exit 3'), 3)
    assert MARKER in r.lines(), r.describe()
    assert "image=image" in r.lines(), r.describe()
    expect(kit.rkt("stop", "--force", uuid))
    kit.rkt.finish(p, timeout=120)


def test_gc_leaves_nothing(kit: Kit, tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    uuid_file = tmp_path / "uuid"
    pod, app = _volume("v", host, "/v")
    expect(kit.run_app("echo done > /v/out", pod=(*pod, f"--uuid-file-save={uuid_file}"), app=app))
    uuid = uuid_file.read_text().strip()
    for _ in range(2):
        expect(kit.rkt("gc", "--grace-period=0s"))
    assert kit.rkt.pod_dirs() == [], "pod directories left after gc"
    assert kit.rkt.mounts() == [], "mounts left under the data directory after gc"
    assert kit.rkt.processes_naming(uuid) == [], "processes naming the pod left after gc"
    assert kit.rkt.json("list", "--format=json") in ([], None)


# --- capabilities ------------------------------------------------------------------------


def _two_apps(kit: Kit, first: str, second: str) -> Result:
    return kit.run(*kit.pod_flags, str(kit.images["main"]), "--exec=/bin/sh", "--", "-c", first, "---",
                   str(kit.images["second"]), "--exec=/bin/sh", "--", "-c", second, "---")


@pytest.mark.rkt_capability("multi-app")
def test_several_apps_exit_rule(kit: Kit) -> None:
    if not kit.caps["multiApp"]:
        pytest.skip("the flavor runs one app per pod")
    expect(_two_apps(kit, "exit 0", "sleep 1; exit 0"), 0)
    expect(_two_apps(kit, "exit 0", "sleep 1; exit 3"), 3)


def test_single_app_flavor_refuses_two(kit: Kit) -> None:
    if kit.caps["multiApp"]:
        pytest.skip("the flavor runs several apps per pod")
    r = expect(_two_apps(kit, "exit 0", "exit 0"), 254)
    assert r.stderr.strip(), "refusal without a message"
    assert kit.rkt.pod_dirs() == [], "a refused pod left its directory"


#: isolator -> (app flags, script that exits 0 when the isolator took effect)
ISOLATOR_CHECKS: dict[str, tuple[tuple[str, ...], str]] = {
    "resource/memory": (("--memory=128M",), "dd if=/dev/zero of=/dev/null bs=8M count=1"),
    "resource/cpu": (("--cpu=500m",), "true"),
    "os/linux/cpu-shares": (("--cpu-shares=512",), "true"),
    "os/linux/oom-score-adj": (("--oom-score-adj=100",), 'test "$(cat /proc/self/oom_score_adj)" = 100'),
    # bit 13 (CAP_NET_RAW) must be clear in the bounding set
    "os/linux/capabilities-remove-set": (
        ("--caps-remove=CAP_NET_RAW",), "b=$(grep CapBnd /proc/self/status | cut -f2); test $(( 0x$b >> 13 & 1 )) = 0"),
    # only bit 0 (CAP_CHOWN) left in the effective set
    "os/linux/capabilities-retain-set": (
        ("--caps-retain=CAP_CHOWN",), "e=$(grep CapEff /proc/self/status | cut -f2); test $(( 0x$e )) = 1"),
}


@pytest.mark.rkt_capability("isolators")
@pytest.mark.parametrize("isolator", sorted(ISOLATOR_CHECKS))
def test_isolator(kit: Kit, isolator: str) -> None:
    if isolator not in kit.caps["isolators"]:
        pytest.skip(f"the flavor does not claim {isolator}")
    flags, script = ISOLATOR_CHECKS[isolator]
    expect(kit.run_app(script, app=flags))


@pytest.mark.rkt_capability("isolators")
def test_memory_limit_enforced(kit: Kit) -> None:
    if "resource/memory" not in kit.caps["isolators"]:
        pytest.skip("the flavor does not claim resource/memory")
    r = kit.run_app("dd if=/dev/zero of=/dev/null bs=600M count=1", app=("--memory=128M",))
    assert r.returncode != 0, f"an app allocated 600M under --memory=128M\n{r.describe()}"


def _inet4(r: Result) -> list[str]:
    """The IPv4 addresses in ``ip -o -4 addr`` output."""
    out = []
    for ln in r.lines():
        words = ln.split()
        out += [words[i + 1].split("/")[0] for i, w in enumerate(words[:-1]) if w == "inet"]
    return out


def _host_ifaces() -> set[str]:
    with open("/proc/net/dev") as f:
        return {ln.split(":")[0].strip() for ln in f.readlines()[2:]}


@pytest.mark.rkt_capability("network")
def test_net_none(kit: Kit) -> None:
    if "none" not in kit.caps["networkModes"]:
        pytest.skip("the flavor does not claim --net=none")
    r = expect(kit.run(f"--stage1-name={kit.flavor}", "--net=none", str(kit.images["main"]),
                       "--exec=/bin/ip", "--", "-o", "-4", "addr"))
    assert all(a.startswith("127.") for a in _inet4(r)), r.describe()


@pytest.mark.rkt_capability("network")
def test_net_host(kit: Kit) -> None:
    if "host" not in kit.caps["networkModes"]:
        pytest.skip("the flavor does not claim --net=host")
    r = expect(kit.run(f"--stage1-name={kit.flavor}", "--net=host", str(kit.images["main"]),
                       "--exec=/bin/cat", "--", "/proc/net/dev"))
    inside = {ln.split(":")[0].strip() for ln in r.lines()[2:] if ":" in ln}
    assert inside == _host_ifaces(), r.describe()


@pytest.mark.rkt_capability("network")
def test_net_contained(kit: Kit, tmp_path: Path) -> None:
    if "contained" not in kit.caps["networkModes"]:
        pytest.skip("the flavor does not claim contained networking")
    before = _host_ifaces()
    uuid_file = tmp_path / "uuid"
    r = expect(kit.run(f"--stage1-name={kit.flavor}", "--net=default", f"--uuid-file-save={uuid_file}",
                       str(kit.images["main"]), "--exec=/bin/ip", "--", "-o", "-4", "addr"))
    addrs = [a for a in _inet4(r) if not a.startswith("127.")]
    assert addrs, f"no IPv4 address on the default network\n{r.describe()}"
    for _ in range(2):
        expect(kit.rkt("gc", "--grace-period=0s"))
    leftover = _host_ifaces() - before
    assert not leftover, f"host interfaces left after gc: {sorted(leftover)}"
    netns = Path("/var/run/netns")
    uuid = uuid_file.read_text().strip()
    if netns.is_dir():
        assert not [n for n in os.listdir(netns) if uuid in n], "network namespace left after gc"
