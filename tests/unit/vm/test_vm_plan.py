"""Planning the guest of a pod, rendering its scripts, the control protocol, VM size and command lines."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.appc import PodManifest
from rkt_sdk.types import NetworkAttachment, Pod, PodApp, RunOptions
from rkt_sdk.vm import protocol
from rkt_sdk.vm.errors import GuestError, VMError
from rkt_sdk.vm.guest import plan_pod, render_pod_script, write_exchange
from rkt_sdk.vm.initramfs import find_busybox
from rkt_sdk.vm.qemu import ChardevFds, VMSpec, kernel_cmdline, qemu_argv
from rkt_sdk.vm.sizing import memory_mib, vcpus

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
GROUP = "root:x:0:\nuser:x:1000:\nstaff:x:50:user\n"


def make_pod(tmp_path: Path, apps: list[dict[str, Any]], volumes: list[dict[str, Any]] | None = None,
             networks: tuple[NetworkAttachment, ...] = ()) -> Pod:
    rts = []
    for a in apps:
        root = tmp_path / "pod" / "apps" / a["name"] / "rootfs"
        (root / "etc").mkdir(parents=True)
        (root / "etc/passwd").write_text(PASSWD)
        (root / "etc/group").write_text(GROUP)
        rts.append({"name": a["name"], "image": {"name": "example.com/x", "id": "sha512-" + "a" * 64},
                    "app": {"exec": a.get("exec", ["/bin/sh"]), "user": a.get("user", "0"),
                            "group": a.get("group", "0"), "isolators": a.get("isolators", []),
                            "environment": [{"name": k, "value": v} for k, v in a.get("env", {}).items()],
                            "mountPoints": a.get("mountPoints", [])},
                    "mounts": a.get("mounts", [])})
    man = PodManifest.from_dict({"acKind": "PodManifest", "acVersion": "0.8.11", "apps": rts,
                                 "volumes": volumes or []})
    path = tmp_path / "pod"
    return Pod("0d9bd4c4-3f2a-4a7c-9d6e-0c9e8d8c1a11", path, man,
               tuple(PodApp(r.name, path / "apps" / r.name / "rootfs", r) for r in man.apps), networks=networks)


def test_plan_resolves_users_env_and_shares(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    pod = make_pod(tmp_path, [{"name": "web", "user": "user", "group": "staff", "env": {"FOO": "bar baz"},
                               "exec": ["/bin/echo", "it's"], "mounts": [{"volume": "data", "path": "/srv/data"}]},
                              {"name": "side"}],
                   [{"name": "data", "kind": "host", "source": str(host), "readOnly": True},
                    {"name": "unused", "kind": "empty"}])
    plan = plan_pod(pod, RunOptions(net="none"))
    web = plan.apps[0]
    assert (web.uid, web.gid) == (1000, 50)
    assert "FOO=bar baz" in web.env and "HOME=/home/user" in web.env and "AC_APP_NAME=web" in web.env
    assert [s.tag for s in plan.shares] == ["rkt.xchg", "vol0", "app0", "app1"]
    assert [s.read_only for s in plan.shares] == [False, True, False, False]
    assert web.mounts[0].read_only
    assert plan.hostname == f"rkt-{pod.uuid}"
    write_exchange(plan)
    script = (plan.xchg / "pod.sh").read_text()
    assert "/bin/echo 'it'\"'\"'s'" in script
    assert web.groups == (50,), "groups listing the user in the image's /etc/group"
    assert "rkt-app0:x:0:50:" in script and "rkt-app0-1:x:50:rkt-app0" in script
    assert "-w/apps/0/ -S 1000 -F" in script, "su sets gid and groups, nsenter the uid"
    assert "-G 0 -S 0 -F" in script, "an app without supplementary groups"
    subprocess.run([str(find_busybox()), "sh", "-n", str(plan.xchg / "pod.sh")], check=True)


def test_plan_read_only_rule_per_app_and_share(tmp_path: Path) -> None:
    """The image's read-only mount point applies in its app only; the share is read-only when every app's
    mount of it is."""
    host = tmp_path / "host"
    host.mkdir()
    ro_point = [{"name": "data", "path": "/data", "readOnly": True}]
    data, scratch = {"volume": "data", "path": "/data"}, {"volume": "scratch", "path": "/scratch"}
    pod = make_pod(tmp_path, [{"name": "reader", "mountPoints": ro_point, "mounts": [data]},
                              {"name": "writer", "mounts": [data]},
                              {"name": "both", "mountPoints": ro_point, "mounts": [data, scratch]}],
                   [{"name": "data", "kind": "host", "source": str(host)},
                    {"name": "scratch", "kind": "empty"}])
    plan = plan_pod(pod, RunOptions(net="none"))
    assert [[m.read_only for m in a.mounts] for a in plan.apps] == [[True], [False], [True, False]]
    shares = {s.tag: s for s in plan.shares}
    assert not shares["vol0"].read_only, "a volume one app writes is exported writable"
    assert (tmp_path / "pod" / "stage1-data" / "volumes" / "scratch").is_dir(), "the empty volume's directory is made"


def test_plan_refuses_a_file_volume_and_networks_without_mac(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    pod = make_pod(tmp_path, [{"name": "a", "mounts": [{"volume": "v", "path": "/v"}]}],
                   [{"name": "v", "kind": "host", "source": str(f)}])
    with pytest.raises(VMError, match=r"volume v: host source .* is not a directory"):
        plan_pod(pod, RunOptions(net="none"))
    pod2 = make_pod(tmp_path / "2", [{"name": "a"}], networks=(NetworkAttachment("default", "tap0", "10.1.0.2", 24),))
    with pytest.raises(VMError, match=r"network default: .* no MAC"):
        plan_pod(pod2, RunOptions(net="contained"))


def test_networks_in_pod_script(tmp_path: Path) -> None:
    net = NetworkAttachment("default", "rkttap0", "172.16.28.2", 24, "172.16.28.1", "02:AA:bb:cc:dd:ee",
                            (("10.9.0.0/16", "172.16.28.1"),))
    plan = plan_pod(make_pod(tmp_path, [{"name": "a"}], networks=(net,)), RunOptions(net="contained"))
    script = render_pod_script(plan)
    assert "ifname_by_mac 02:aa:bb:cc:dd:ee" in script
    assert "ip addr add 172.16.28.2/24" in script
    assert "ip route add 10.9.0.0/16 via 172.16.28.1" in script
    assert "ip route add default via 172.16.28.1" in script


@pytest.mark.parametrize("arg", ["plain", "", "two words", "tail\n", "quote'\"$x`y`", "ünï"])
def test_enter_args_survive_the_guest_decoder(arg: str) -> None:
    snippet = ('for w; do v=$(printf %s "$w" | base64 -d); v=${v#x}; set -- "$@" "${v%x}"; shift; done; '
               'printf "%s\\0" "$@"')
    encoded = protocol.encode_arg(arg)
    out = subprocess.run([str(find_busybox()), "sh", "-c", snippet, "sh", encoded, protocol.encode_arg("next")],
                         capture_output=True, check=True).stdout
    assert out.split(b"\0")[:2] == [arg.encode(), b"next"]


def test_guest_events_parse_or_fail_clearly() -> None:
    assert protocol.parse_event(b'{"ev":"exited","app":"a","code":3}\n') == {"ev": "exited", "app": "a", "code": 3}
    with pytest.raises(GuestError, match="not JSON"):
        protocol.parse_event(b"garbage")
    assert protocol.cmd_stop(2.1) == b"stop 3\n"


def test_vm_size_from_isolators(tmp_path: Path) -> None:
    pod = make_pod(tmp_path, [
        {"name": "a", "isolators": [{"name": "resource/memory", "value": {"limit": "256Mi"}},
                                    {"name": "resource/cpu", "value": {"limit": "1500m"}}]},
        {"name": "b"}])
    assert memory_mib(pod, 128, 64) == 128 + 256 + 64
    assert vcpus(pod, host_cpus=8) == 2
    assert vcpus(pod, host_cpus=1) == 1
    bad = make_pod(tmp_path / "bad", [{"name": "a", "isolators": [{"name": "resource/memory",
                                                                    "value": {"limit": "lots"}}]}])
    with pytest.raises(VMError, match="app a: resource/memory"):
        memory_mib(bad, 128, 64)


def _spec(machine: str, shares: Any = ()) -> VMSpec:
    return VMSpec("rkt-x", Path("/k"), Path("/i"), kernel_cmdline(machine), 192, 1, "tcg", machine, shares,
                  (NetworkAttachment("n", "tap0", mac="02:00:00:00:00:01"),), "x")


def test_qemu_argv_devices_follow_the_machine(tmp_path: Path) -> None:
    from rkt_sdk.vm.guest import Share

    shares = (Share("app0", Path("/a,b"), True),)
    micro = qemu_argv("qemu-system-x86_64", _spec("microvm", shares), ChardevFds(3, 4, 5, 6))
    assert "virtio-9p-device,fsdev=fs0,mount_tag=app0" in micro
    assert "local,id=fs0,path=/a,,b,security_model=passthrough,readonly=on" in micro
    assert "virtio-net-device,netdev=net0,mac=02:00:00:00:00:01" in micro
    assert "pci=off" in micro[micro.index("-append") + 1]
    pc = qemu_argv("qemu-system-x86_64", _spec("pc"), ChardevFds(3, 4, 5, 6))
    assert "virtio-serial-pci,id=vser" in pc
    assert "socket,id=ctl,fd=4,server=off" in pc


def test_kvm_domain_xml(tmp_path: Path) -> None:
    pytest.importorskip("libvirt")
    from rkt_sdk.vm.guest import Share
    from rkt_stage1_kvm.domain import domain_xml

    spec = _spec("pc", (Share("vol0", tmp_path, True),))
    root = ET.fromstring(domain_xml(spec, "/usr/bin/qemu-system-x86_64", tmp_path / "s"))
    assert root.get("type") == "qemu"
    assert root.findtext("name") == "rkt-x"
    assert root.find("os/type").get("machine") == "pc"  # type: ignore[union-attr]
    names = [c.find("target").get("name") for c in root.findall("devices/channel")]  # type: ignore[union-attr]
    assert names == ["rkt.control", "rkt.stdout", "rkt.stderr"]
    fs = root.find("devices/filesystem")
    assert fs is not None and fs.find("readonly") is not None and fs.find("target").get("dir") == "vol0"  # type: ignore[union-attr]
    assert root.find("devices/interface/target").get("dev") == "tap0"  # type: ignore[union-attr]
    assert json.dumps(root.findtext("on_reboot")) == '"destroy"'
