"""Every flavor runs an OCI image (three layers, whiteouts, an opaque directory) as its config says.

The image runs its entrypoint and command as user ``user`` (uid and gid resolved in the image's
own ``/etc/passwd``) in ``/home/user`` with ``FOO=bar``, and sees the merged layers: a file and a
directory deleted by the second layer are gone, the opaque ``/data`` holds only the last
layer's file. Arguments replace the image's command and keep its entrypoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional.conftest import Rkt
from tests.functional.test_vm_flavors import libvirtd, run_args, vm_config
from tests.support.oci import busybox_layout

__all__ = ["libvirtd", "vm_config"]

SCRIPT = "id; pwd; echo FOO=$FOO; echo ETC $(ls /etc); echo OPT $(ls /opt); echo DATA $(ls /data)"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lay = tmp_path_factory.mktemp("oci-run") / "app"
    return busybox_layout(lay, "v1", entrypoint=["/bin/sh", "-c"], cmd=[SCRIPT], env={"FOO": "bar"}, user="user",
                          workdir="/home/user", ports=["80/tcp"], volumes=["/vol"])


def check_output(out: str) -> None:
    assert "uid=1000(user) gid=1000(user)" in out, out
    assert "\n/home/user\n" in out and "FOO=bar" in out, out
    etc = next(line for line in out.splitlines() if line.startswith("ETC "))
    assert "base-only" not in etc and "second" in etc and "third" in etc, out
    opt = next(line for line in out.splitlines() if line.startswith("OPT "))
    assert opt.strip() == "OPT keep", out
    assert "DATA new" in out and "old" not in out, out


@pytest.mark.parametrize("flavor", ["fly", "coreos"])
def test_oci_image_runs(rkt: Rkt, layout: Path, flavor: str) -> None:
    net = ("--net=none",) if flavor == "coreos" else ()  # about the image, not networks
    r = rkt.run_ok("run", f"--stage1-name={flavor}", *net, f"oci:{layout}:v1", timeout=120)
    check_output(r.out)
    r = rkt.run_ok("run", f"--stage1-name={flavor}", *net, "--no-overlay", f"oci:{layout}:v1", "--",
                   "echo ARGS; " + SCRIPT, timeout=120)
    assert r.out.startswith("ARGS") or "\nARGS\n" in r.out, r.out
    check_output(r.out)


def test_port_names_and_pull_policy_never(rkt: Rkt, layout: Path) -> None:
    r = rkt("prepare", "--pull-policy=never", f"oci:{layout}:v1")
    assert r.code == 254 and "local store" in r.err, str(r)
    uuid = rkt.run_ok("prepare", "--port=80-tcp:18080", f"oci:{layout}:v1").out.strip()
    rkt.run_ok("rm", uuid)
    r = rkt("prepare", "--store-only", "--port=81-tcp:18080", f"oci:{layout}:v1")
    assert r.code == 254 and 'no app of the pod declares a port named "81-tcp"' in r.err, str(r)


@pytest.mark.vm
@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["qemu", "kvm"])
def test_oci_image_runs_in_a_vm(rkt: Rkt, layout: Path, vm_config: Path, libvirtd: bool, flavor: str) -> None:
    if flavor == "kvm" and not libvirtd:
        pytest.skip("libvirtd cannot be started here")
    r = rkt.run_ok(*run_args(vm_config, flavor, f"oci:{layout}:v1"), timeout=600)
    check_output(r.out)


def stopper(tmp_path: Path) -> Path:
    return busybox_layout(tmp_path / "stopper", "v1", entrypoint=["/bin/sh", "-c"], stop_signal="SIGUSR1",
                          cmd=["trap 'echo got USR1; exit 7' USR1; trap 'echo got TERM; exit 3' TERM; echo ready; "
                               "while true; do sleep 0.1; done"])


def stop_when_ready(rkt: Rkt, args: tuple[str, ...], timeout: float) -> None:
    p = rkt.popen(*args)
    assert p.stdout is not None
    line = p.stdout.readline().strip()
    if line != "ready":
        p.wait(timeout=60)
        raise AssertionError(f"no ready line: {line!r}, exit {p.returncode}: {p.stderr.read() if p.stderr else ''}")
    (pod,) = rkt.pods()
    rkt.run_ok("stop", pod.name, timeout=60)
    assert p.wait(timeout=timeout) == 7
    assert p.communicate()[0].strip() == "got USR1"


@pytest.mark.parametrize("flavor", ["fly", "coreos"])
def test_stop_sends_the_images_stop_signal(rkt: Rkt, tmp_path: Path, flavor: str) -> None:
    net = ("--net=none",) if flavor == "coreos" else ()  # about signals, not networks
    stop_when_ready(rkt, ("run", f"--stage1-name={flavor}", *net, f"oci:{stopper(tmp_path)}:v1"), 20)


@pytest.mark.vm
@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["qemu", "kvm"])
def test_stop_sends_the_images_stop_signal_in_a_vm(rkt: Rkt, tmp_path: Path, vm_config: Path, libvirtd: bool,
                                                   flavor: str) -> None:
    if flavor == "kvm" and not libvirtd:
        pytest.skip("libvirtd cannot be started here")
    stop_when_ready(rkt, run_args(vm_config, flavor, f"oci:{stopper(tmp_path)}:v1"), 120)


def test_gc_keeps_the_trees_a_pod_uses(rkt: Rkt, layout: Path, data_dir: Path) -> None:
    uuid = rkt.run_ok("prepare", "--stage1-name=fly", f"oci:{layout}:v1").out.strip()
    pod = next(p for p in rkt.pods() if p.name == uuid)
    used = (pod / "appsinfo" / "app" / "treeStoreID").read_text().split()
    assert len(used) == 4 and used[0].startswith("deps-sha512-") and all(u.startswith("layer-") for u in used[1:])
    lowers = (pod / "appsinfo" / "app" / "lowers").read_text().split()
    assert [Path(p).parent.name for p in lowers] == used[1:]  # topmost first
    rkt.run_ok("image", "gc", "--grace-period=0s")
    assert all((data_dir / "cas" / "trees" / t).is_dir() for t in used)
    assert len(rkt.run_ok("image", "list", "--no-legend").out.splitlines()) == 1
    r = rkt.run_ok("run-prepared", uuid, timeout=120)
    check_output(r.out)
