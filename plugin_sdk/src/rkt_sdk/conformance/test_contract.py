"""The conformance tests: a flavor as a user sees it through ``rkt``.

Collected when pytest runs with ``--rkt-flavor=NAME`` (see :mod:`rkt_sdk.conformance.plugin`).
Each test drives ``rkt`` on its own data directory and leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.conformance.driver import Result, RktDriver
from rkt_sdk.conformance.plugin import MARKER

VALID_NET_MODES = {"host", "none", "contained"}
VALID_ATTACHMENTS = {"netns", "tap", "host"}


def run_app(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], script: str, *args: str,
            app_flags: tuple[str, ...] = ()) -> Result:
    """``rkt run [pod_flags] main-image --exec=/bin/sh [app_flags] -- -c SCRIPT sh ARGS...``."""
    return rkt("--insecure-options=image", "run", *pod_flags, str(images["main"]), "--exec=/bin/sh", *app_flags,
               "--", "-c", script, "sh", *args)


def expect(r: Result, code: int = 0) -> Result:
    assert r.returncode == code, f"expected exit code {code}\n{r.describe()}"
    return r


def _flavor_flag(rkt_flavor: str) -> str:
    return f"--stage1-name={rkt_flavor}"


@pytest.fixture
def pod_flags(rkt_flavor: str, net_flags: list[str]) -> list[str]:
    return [_flavor_flag(rkt_flavor), *net_flags]


# --- what the flavor says of itself ------------------------------------------------------


def test_listed_and_not_broken(flavor_report: dict[str, Any], rkt_flavor: str) -> None:
    assert flavor_report["name"] == rkt_flavor
    assert not flavor_report["broken"], f"rkt flavors reports the flavor broken: {flavor_report['error']}"
    assert flavor_report["distribution"], "the flavor's distribution is unnamed"
    assert isinstance(flavor_report["version"], str) and flavor_report["version"]


def test_interface_version_supported(flavor_report: dict[str, Any]) -> None:
    from rkt_sdk import INTERFACE_VERSION, MIN_INTERFACE_VERSION

    iv = flavor_report["interfaceVersion"]
    assert isinstance(iv, int) and MIN_INTERFACE_VERSION <= iv <= INTERFACE_VERSION, iv


def test_capabilities_well_formed(capabilities: dict[str, Any]) -> None:
    modes = set(capabilities["networkModes"])
    assert modes, "the flavor supports no network mode"
    assert modes <= VALID_NET_MODES, f"unknown network modes: {modes - VALID_NET_MODES}"
    assert capabilities["networkAttachment"] in VALID_ATTACHMENTS
    assert all(isinstance(i, str) and "/" in i for i in capabilities["isolators"]), capabilities["isolators"]


def test_host_check_answers(flavor_report: dict[str, Any]) -> None:
    assert isinstance(flavor_report["canRun"], bool)
    assert all(isinstance(w, str) and w for w in flavor_report["warnings"])
    if not flavor_report["canRun"]:
        assert flavor_report["reason"].strip(), "a flavor that cannot run here must say why"


# --- running pods ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_code_propagates(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], code: int) -> None:
    expect(run_app(rkt, images, pod_flags, f"exit {code}"), code)


def test_arguments_reach_the_app(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str]) -> None:
    r = expect(run_app(rkt, images, pod_flags, 'for a in "$@"; do echo "arg=[$a]"; done', "one two", "three"))
    got = [ln for ln in r.lines() if ln.startswith("arg=")]
    assert got == ["arg=[one two]", "arg=[three]"], r.describe()


def test_environment(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str]) -> None:
    r = expect(run_app(rkt, images, [*pod_flags, "--set-env=FROM_FLAG=flag value"],
                       'echo "image=$FROM_IMAGE"; echo "flag=$FROM_FLAG"; echo "path=$PATH"'))
    lines = r.lines()
    assert "image=image" in lines, r.describe()
    assert "flag=flag value" in lines, r.describe()
    assert any(ln.startswith("path=") and "/bin" in ln for ln in lines), r.describe()


def test_image_files_visible(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str]) -> None:
    r = expect(run_app(rkt, images, pod_flags, "cat /etc/conformance"))
    assert MARKER in r.lines(), r.describe()


def test_volume_read_write(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    (host / "from-host").write_text("hello from the host\n")
    r = expect(run_app(rkt, images, [*pod_flags, f"--volume=vol,kind=host,source={host}"],
                       "cat /vol/from-host && echo written > /vol/from-app",
                       app_flags=("--mount=volume=vol,target=/vol",)))
    assert "hello from the host" in r.lines(), r.describe()
    assert (host / "from-app").read_text().strip() == "written"


def test_volume_read_only(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    (host / "from-host").write_text("read me\n")
    r = run_app(rkt, images, [*pod_flags, f"--volume=vol,kind=host,source={host},readOnly=true"],
                "cat /vol/from-host; if echo x > /vol/from-app; then exit 0; else exit 9; fi",
                app_flags=("--mount=volume=vol,target=/vol",))
    expect(r, 9)
    assert "read me" in r.lines(), r.describe()
    assert not (host / "from-app").exists()


def _start_sleeper(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str],
                   tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    host = tmp_path / "signal"
    host.mkdir()
    uuid_file = tmp_path / "uuid"
    p = rkt.start("--insecure-options=image", "run", *pod_flags, f"--uuid-file-save={uuid_file}",
                  f"--volume=sig,kind=host,source={host}", str(images["main"]),
                  "--mount=volume=sig,target=/sig", "--exec=/bin/sh", "--", "-c",
                  "touch /sig/started; exec sleep 600")
    if not rkt.wait_for(host / "started"):
        p.kill()
        res = rkt.finish(p, timeout=30)
        pytest.fail(f"the app did not start within {rkt.timeout}s\n{res.describe()}")
    return p, uuid_file.read_text().strip()


@pytest.mark.parametrize("force", [False, True], ids=["graceful", "force"])
def test_stop(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], tmp_path: Path, force: bool) -> None:
    p, uuid = _start_sleeper(rkt, images, pod_flags, tmp_path)
    expect(rkt("stop", *(["--force"] if force else []), uuid))
    try:
        rkt.finish(p, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("rkt run did not end within 120s of rkt stop")
    status = rkt.json("status", "--format=json", uuid)
    assert status["state"] == "exited", status


@pytest.mark.rkt_capability("enter")
def test_enter(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], tmp_path: Path,
               capabilities: dict[str, Any]) -> None:
    if not capabilities["enter"]:
        pytest.skip("the flavor does not claim rkt enter")
    p, uuid = _start_sleeper(rkt, images, pod_flags, tmp_path)
    r = rkt("enter", uuid, "/bin/sh", "-c", 'cat /etc/conformance; echo "image=$FROM_IMAGE"; exit 3')
    expect(r, 3)
    assert MARKER in r.lines(), r.describe()
    assert "image=image" in r.lines(), r.describe()
    expect(rkt("stop", "--force", uuid))
    rkt.finish(p, timeout=120)


def test_gc_leaves_nothing(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], tmp_path: Path) -> None:
    host = tmp_path / "vol"
    host.mkdir()
    uuid_file = tmp_path / "uuid"
    expect(run_app(rkt, images, [*pod_flags, f"--uuid-file-save={uuid_file}", f"--volume=v,kind=host,source={host}"],
                   "echo done > /v/out", app_flags=("--mount=volume=v,target=/v",)))
    uuid = uuid_file.read_text().strip()
    for _ in range(2):
        expect(rkt("gc", "--grace-period=0s"))
    assert rkt.pod_dirs() == [], "pod directories left after gc"
    assert rkt.mounts() == [], "mounts left under the data directory after gc"
    assert rkt.processes_naming(uuid) == [], "processes naming the pod left after gc"
    assert rkt.json("list", "--format=json") in ([], None)


# --- capabilities ------------------------------------------------------------------------


def _two_apps(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], first: str, second: str) -> Result:
    return rkt("--insecure-options=image", "run", *pod_flags,
               str(images["main"]), "--exec=/bin/sh", "--", "-c", first, "---",
               str(images["second"]), "--exec=/bin/sh", "--", "-c", second, "---")


@pytest.mark.rkt_capability("multi-app")
def test_several_apps_exit_rule(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str],
                                capabilities: dict[str, Any]) -> None:
    if not capabilities["multiApp"]:
        pytest.skip("the flavor runs one app per pod")
    expect(_two_apps(rkt, images, pod_flags, "exit 0", "sleep 1; exit 0"), 0)
    expect(_two_apps(rkt, images, pod_flags, "exit 0", "sleep 1; exit 3"), 3)


def test_single_app_flavor_refuses_two(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str],
                                       capabilities: dict[str, Any]) -> None:
    if capabilities["multiApp"]:
        pytest.skip("the flavor runs several apps per pod")
    r = _two_apps(rkt, images, pod_flags, "exit 0", "exit 0")
    expect(r, 254)
    assert r.stderr.strip(), "refusal without a message"
    assert rkt.pod_dirs() == [], "a refused pod left its directory"


#: isolator -> (app flags, script, expected exit code)
ISOLATOR_CHECKS: dict[str, tuple[tuple[str, ...], str, int]] = {
    "resource/memory": (("--memory=128M",), "dd if=/dev/zero of=/dev/null bs=8M count=1", 0),
    "resource/cpu": (("--cpu=500m",), "true", 0),
    "os/linux/cpu-shares": (("--cpu-shares=512",), "true", 0),
    "os/linux/oom-score-adj": (("--oom-score-adj=100",), 'test "$(cat /proc/self/oom_score_adj)" = 100', 0),
    "os/linux/capabilities-remove-set": (
        ("--caps-remove=CAP_NET_RAW",),
        # bit 13 (CAP_NET_RAW) must be clear in the bounding set
        'b=$(grep CapBnd /proc/self/status | cut -f2); test $(( 0x$b >> 13 & 1 )) = 0', 0),
    "os/linux/capabilities-retain-set": (("--caps-retain=CAP_CHOWN",),
                                          'e=$(grep CapEff /proc/self/status | cut -f2); test $(( 0x$e )) = 1', 0),
}


@pytest.mark.rkt_capability("isolators")
@pytest.mark.parametrize("isolator", sorted(ISOLATOR_CHECKS))
def test_isolator(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str], capabilities: dict[str, Any],
                  isolator: str) -> None:
    if isolator not in capabilities["isolators"]:
        pytest.skip(f"the flavor does not claim {isolator}")
    flags, script, code = ISOLATOR_CHECKS[isolator]
    expect(run_app(rkt, images, pod_flags, script, app_flags=flags), code)


@pytest.mark.rkt_capability("isolators")
def test_memory_limit_enforced(rkt: RktDriver, images: dict[str, Path], pod_flags: list[str],
                               capabilities: dict[str, Any]) -> None:
    if "resource/memory" not in capabilities["isolators"]:
        pytest.skip("the flavor does not claim resource/memory")
    r = run_app(rkt, images, pod_flags, "dd if=/dev/zero of=/dev/null bs=600M count=1", app_flags=("--memory=128M",))
    assert r.returncode != 0, f"an app allocated 600M under --memory=128M\n{r.describe()}"


def _inet4(r: Result) -> list[str]:
    return [w.split("/")[0] for ln in r.lines() for i, w in enumerate(ln.split()) if i and ln.split()[i - 1] == "inet"]


@pytest.mark.rkt_capability("network")
def test_net_none(rkt: RktDriver, images: dict[str, Path], rkt_flavor: str, capabilities: dict[str, Any]) -> None:
    if "none" not in capabilities["networkModes"]:
        pytest.skip("the flavor does not claim --net=none")
    r = expect(rkt("--insecure-options=image", "run", _flavor_flag(rkt_flavor), "--net=none", str(images["main"]),
                   "--exec=/bin/ip", "--", "-o", "-4", "addr"))
    assert all(a.startswith("127.") for a in _inet4(r)), r.describe()


def _host_ifaces() -> set[str]:
    with open("/proc/net/dev") as f:
        return {ln.split(":")[0].strip() for ln in f.readlines()[2:]}


@pytest.mark.rkt_capability("network")
def test_net_host(rkt: RktDriver, images: dict[str, Path], rkt_flavor: str, capabilities: dict[str, Any]) -> None:
    if "host" not in capabilities["networkModes"]:
        pytest.skip("the flavor does not claim --net=host")
    r = expect(rkt("--insecure-options=image", "run", _flavor_flag(rkt_flavor), "--net=host", str(images["main"]),
                   "--exec=/bin/cat", "--", "/proc/net/dev"))
    inside = {ln.split(":")[0].strip() for ln in r.lines()[2:] if ":" in ln}
    assert inside == _host_ifaces(), r.describe()


@pytest.mark.rkt_capability("network")
def test_net_contained(rkt: RktDriver, images: dict[str, Path], rkt_flavor: str, capabilities: dict[str, Any],
                       tmp_path: Path) -> None:
    if "contained" not in capabilities["networkModes"]:
        pytest.skip("the flavor does not claim contained networking")
    before = _host_ifaces()
    uuid_file = tmp_path / "uuid"
    r = expect(rkt("--insecure-options=image", "run", _flavor_flag(rkt_flavor), "--net=default",
                   f"--uuid-file-save={uuid_file}", str(images["main"]), "--exec=/bin/ip", "--", "-o", "-4", "addr"))
    addrs = [a for a in _inet4(r) if not a.startswith("127.")]
    assert addrs, f"no IPv4 address on the default network\n{r.describe()}"
    for _ in range(2):
        expect(rkt("gc", "--grace-period=0s"))
    leftover = _host_ifaces() - before
    assert not leftover, f"host interfaces left after gc: {sorted(leftover)}"
    netns = Path("/var/run/netns")
    uuid = uuid_file.read_text().strip()
    if netns.is_dir():
        assert not [n for n in os.listdir(netns) if uuid in n], "network namespace left after gc"
