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

from rkt_sdk.conformance.driver import Result
from rkt_sdk.conformance.kit import Kit, expect
from rkt_sdk.conformance.plugin import MARKER

VALID_NET_MODES = {"host", "none", "contained"}
VALID_ATTACHMENTS = {"netns", "tap", "host"}


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


def _host_ifindexes() -> dict[int, str]:
    """Host interfaces by index (an index is not reused until the counter wraps)."""
    out = {}
    for name in os.listdir("/sys/class/net"):
        try:
            out[int(Path(f"/sys/class/net/{name}/ifindex").read_text())] = name
        except (OSError, ValueError):
            continue
    return out


def _peer_indexes(r: Result) -> set[int]:
    """Host-side peer indexes of the pod's veths, from ``ip -o link`` inside it (``eth0@if951:``)."""
    found = set()
    for ln in r.lines():
        words = ln.split()
        if len(words) > 1 and "@if" in words[1]:
            try:
                found.add(int(words[1].rstrip(":").rsplit("@if", 1)[1]))
            except ValueError:
                continue
    return found


@pytest.mark.rkt_capability("network")
def test_net_contained(kit: Kit, tmp_path: Path) -> None:
    """The pod gets an address on the default network; after gc, nothing of its network is left.

    Other pods may come and go on the host meanwhile (other tests, other users), so the check
    follows this pod's own host interfaces: with ``netns`` attachment, the peers of its veths
    (``eth0@ifN`` inside names host index N); with ``tap`` attachment, the interfaces that
    appeared while it ran and whose names carry the pod's short UUID, when any do.
    """
    if "contained" not in kit.caps["networkModes"]:
        pytest.skip("the flavor does not claim contained networking")
    before = _host_ifindexes()
    uuid_file = tmp_path / "uuid"
    r = expect(kit.run(f"--stage1-name={kit.flavor}", "--net=default", f"--uuid-file-save={uuid_file}",
                       str(kit.images["main"]), "--exec=/bin/sh", "--", "-c", "ip -o -4 addr; ip -o link"))
    addrs = [a for a in _inet4(r) if not a.startswith("127.")]
    assert addrs, f"no IPv4 address on the default network\n{r.describe()}"
    uuid = uuid_file.read_text().strip()
    peers = _peer_indexes(r)
    during = _host_ifindexes()
    for _ in range(2):
        expect(kit.rkt("gc", "--grace-period=0s"))
    after = _host_ifindexes()
    if kit.caps["networkAttachment"] == "netns":
        assert peers, f"the pod's interface names no host-side peer (eth0@ifN)\n{r.describe()}"
        mine = {i: during.get(i, "?") for i in peers}
    else:
        short = uuid.replace("-", "")[:8]
        mine = {i: n for i, n in during.items() if i not in before and short in n.replace("-", "")}
    leftover = sorted(after[i] for i in mine if i in after)
    assert not leftover, f"host interfaces of the pod left after gc: {leftover}"
    netns = Path("/var/run/netns")
    if netns.is_dir():
        assert not [n for n in os.listdir(netns) if uuid in n], "network namespace left after gc"
