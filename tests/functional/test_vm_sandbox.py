"""Mutable pods on the VM flavors (``qemu`` and ``kvm``): a sandbox VM boots with no apps, and
``rkt app add|start|stop|rm|list|status`` and ``rkt enter --app`` reach it through its control channel.

One VM a flavor: the lifecycle of the coreos sandbox's main case (add, start, stop with the
app's own exit code, start again, rm of a running app, re-add under the same name), an app that
exits while another runs, a volume of the sandbox mounted into a later app, CRI log lines written
by the host from the guest's output, what a VM cannot give an app refused in one line, ``rkt stop``
of the whole pod with an app running (the sandbox exits 0) and a ``gc`` that leaves no VM, mount
or pod behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Rkt, wait_for
from tests.functional.test_vm_flavors import domains, qemu_processes
from tests.support.libvirt import libvirt_daemons

pytestmark = [pytest.mark.vm, pytest.mark.slow]

CRI_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) (stdout|stderr) ([PF]) (.*)$")


@pytest.fixture(scope="module")
def vm_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = tmp_path_factory.mktemp("vm-config")
    cache = tmp_path_factory.mktemp("vm-cache")
    (cfg / "stage1.d").mkdir()
    settings = {"cache_dir": str(cache)}
    (cfg / "stage1.d" / "vm.json").write_text(json.dumps(
        {"rktKind": "stage1", "rktVersion": "v1", "settings": {"qemu": settings, "kvm": settings}}))
    return cfg


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[bool]:
    with libvirt_daemons() as ok:
        yield ok


@pytest.fixture(params=("qemu", "kvm"))
def flavor(request: pytest.FixtureRequest, libvirtd: bool) -> str:
    name = str(request.param)
    if name == "kvm" and not libvirtd:
        pytest.skip("libvirtd cannot be started here")
    return name


class VMSandbox:
    """A running ``rkt app sandbox`` of a VM flavor and the ``rkt app`` commands on it."""

    def __init__(self, rkt: Rkt, cfg: Path, flavor: str, tmp_path: Path, *flags: str) -> None:
        self.rkt = rkt
        self.cfg = f"--local-config={cfg}"
        uuid_file = tmp_path / "uuid"
        self.proc = rkt.popen(self.cfg, "app", "sandbox", f"--stage1-name={flavor}", "--net=none",
                              f"--uuid-file-save={uuid_file}", *flags)
        self.uuid: str = wait_for(lambda: uuid_file.exists() and uuid_file.read_text(), what="the sandbox's uuid")
        wait_for(lambda: (self.path / "stage1-data" / "supervisor.sock").exists() or self.proc.poll() is not None,
                 timeout=120, what="the sandbox's supervisor")
        assert self.proc.poll() is None, self.proc.communicate()

    @property
    def path(self) -> Path:
        return self.rkt.data / "pods" / "run" / self.uuid

    def app(self, *args: str) -> Any:
        return self.rkt(self.cfg, "--insecure-options=image", "app", *args, timeout=120)

    def ok(self, *args: str) -> str:
        r = self.app(*args)
        assert r.code == 0, str(r)
        return str(r.out)

    def add(self, image: str, name: str, script: str, *flags: str) -> None:
        self.ok("add", self.uuid, image, f"--name={name}", "--exec=/bin/sh", *flags, "--", "-c", script)

    def apps(self) -> dict[str, dict[str, Any]]:
        return {a["name"]: a for a in json.loads(self.ok("list", self.uuid, "--format=json"))}

    def status(self, name: str) -> dict[str, Any]:
        return json.loads(self.ok("status", self.uuid, f"--app={name}", "--format=json"))  # type: ignore[no-any-return]

    def wait_state(self, name: str, state: str) -> dict[str, Any]:
        return wait_for(lambda: (s := self.status(name))["state"] == state and s,  # type: ignore[no-any-return]
                        timeout=60, what=f"{name} {state}")


def test_vm_sandbox_lifecycle(rkt: Rkt, image: Any, busybox: str, vm_config: Path, flavor: str,
                              tmp_path: Path) -> None:
    data = tmp_path / "volume"
    data.mkdir()
    sb = VMSandbox(rkt, vm_config, flavor, tmp_path, f"--volume=data,kind=host,source={data}")
    uuid = sb.uuid
    listed = json.loads(rkt.run_ok("list", "--format=json").out)
    assert [(p["name"], p["state"], p["app_names"]) for p in listed] == [(uuid, "running", [])]
    # the main case: add, start, stop (the app's own code), start again, rm while it runs, re-add
    sb.add(busybox, "a", "trap 'exit 7' TERM; echo hello; echo -n par; sleep 0.5; echo tial; "
           "echo oops >&2; while :; do sleep 0.05; done")
    assert sb.status("a")["state"] == "created"
    r = sb.app("add", uuid, busybox, "--name=a")
    assert r.code == 254 and 'already has an app "a"' in r.err
    assert sb.app("stop", uuid, "--app=a").code == 0  # not running: not an error
    sb.ok("start", uuid, "--app=a")
    st = sb.wait_state("a", "running")
    assert st["pid"] > 1 and st["started_at"] >= st["created_at"]
    r = sb.app("start", uuid, "--app=a")
    assert r.code == 254 and "already running" in r.err
    log = sb.path / "logs" / "a.log"
    wait_for(lambda: log.exists() and "tial" in log.read_text() and "oops" in log.read_text(), what="a's log")
    entries = [m.groups()[2:] for m in map(CRI_LINE.match, log.read_text().splitlines()) if m]
    assert len(entries) == len(log.read_text().splitlines()), log.read_text()
    assert [e for e in entries if e[0] == "stdout"] == [("stdout", "F", "hello"), ("stdout", "P", "par"),
                                                        ("stdout", "F", "tial")]
    assert ("stderr", "F", "oops") in entries
    e = rkt(f"--local-config={vm_config}", "enter", "--app=a", uuid, "/bin/sh", "-c", "echo in $AC_APP_NAME; exit 3")
    assert e.code == 3 and e.out == "in a\n", str(e)
    sb.ok("stop", uuid, "--app=a")
    st = sb.status("a")
    assert st["state"] == "exited" and st["exit_code"] == 7 and "pid" not in st and st["finished_at"], st
    sb.ok("start", uuid, "--app=a")  # again, after it exited
    sb.wait_state("a", "running")
    sb.add(busybox, "b", "echo from-b > /data/b; exit 5", "--mount=volume=data,target=/data")
    sb.ok("start", uuid, "--app=b")
    assert sb.wait_state("b", "exited")["exit_code"] == 5  # ends no sandbox
    assert sb.proc.poll() is None and sb.status("a")["state"] == "running"
    assert (data / "b").read_text() == "from-b\n"  # a volume of the sandbox, mounted into a later app
    sb.ok("rm", uuid, "--app=a")  # stops it first
    assert set(sb.apps()) == {"b"}
    assert not (sb.path / "apps" / "a").exists() and not (sb.path / "appsinfo" / "a").exists()
    r = sb.app("status", uuid, "--app=a")
    assert r.code == 254 and 'no app "a"' in r.err
    sb.add(busybox, "a", "echo second; exit 0")
    assert sb.status("a")["state"] == "created"
    sb.ok("start", uuid, "--app=a")
    assert sb.wait_state("a", "exited")["exit_code"] == 0
    wait_for(lambda: "stdout F second" in (sb.path / "logs" / "a.log").read_text(), what="the second a's log")
    sb.ok("rm", uuid, "--app=a")
    r = sb.app("rm", uuid, "--app=a")
    assert r.code == 254 and 'no app "a"' in r.err
    # what a VM cannot give an app: one line, nothing added
    r = sb.app("add", uuid, busybox, "--name=s", "--stdout=stream")
    assert r.code == 254 and "--stdout=stream" in r.err and len(r.err.strip().splitlines()) == 1, str(r)
    assert set(sb.apps()) == {"b"}
    with_mount_point = str(image(name="example.com/mp", app={"mountPoints": [{"name": "cache", "path": "/cache"}]}))
    r = sb.app("add", uuid, with_mount_point, "--name=m")  # its mount point would need a new volume: no 9p then
    assert r.code == 254 and "volume 'm-cache' was not a volume of the sandbox" in r.err, str(r)
    assert set(sb.apps()) == {"b"}
    sb.add(busybox, "c", "sleep 1000")
    sb.ok("start", uuid, "--app=c")
    assert qemu_processes(uuid)
    rkt.run_ok(f"--local-config={vm_config}", "stop", uuid)  # its running app first, then the VM
    _out, err = sb.proc.communicate(timeout=60)
    assert sb.proc.returncode == 0, err
    assert "state=exited" in rkt.run_ok("status", uuid).out
    rkt.run_ok(f"--local-config={vm_config}", "gc", "--grace-period=0s")
    assert not rkt.pods() and not qemu_processes(uuid)
    if flavor == "kvm":
        assert f"rkt-{uuid}" not in domains()
