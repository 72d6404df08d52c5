"""The coreos flavor through the ``rkt`` command: real pods in namespaces, as root.

Each test runs pods with ``--stage1-name=coreos`` in its own data directory; the
``rkt`` fixture garbage-collects them and checks no mount is left, and the tests here
also check no cgroup of theirs is left after gc.
"""

from __future__ import annotations

import os
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import Result, Rkt, wait_for

CO = "--stage1-name=coreos"
DEFAULT_CAPS = 0xA80425FB  # rkt's default retain set
CGROUP_ROOT = Path("/sys/fs/cgroup")


def run(rkt: Rkt, *args: str, net: str = "--net=host", **kw: Any) -> Result:
    return rkt("--insecure-options=image", "run", CO, net, *args, **kw)


def sh(image: str, script: str, *app_flags: str) -> tuple[str, ...]:
    return (image, *app_flags, "--exec=/bin/sh", "--", "-c", script)


def uuid_of(rkt: Rkt, uuid_file: Path) -> str:
    return wait_for(lambda: uuid_file.exists() and uuid_file.read_text().strip(), what="uuid file")


def pod_cgroups(uuid: str) -> list[Path]:
    return [p for p in CGROUP_ROOT.glob(f"*/machine.slice/rkt-{uuid}") if p.exists()]


def gc_and_check(rkt: Rkt, uuid: str) -> None:
    rkt("gc", "--grace-period=0s")
    rkt("gc", "--grace-period=0s")
    assert not pod_cgroups(uuid), f"cgroups left after gc: {pod_cgroups(uuid)}"


def app_status(rkt: Rkt, app: str) -> int:
    (pod,) = rkt.pods()
    return int((pod / "rkt" / "status" / app).read_text())


# --- one app ----------------------------------------------------------------------------


def test_one_app_exit_code_pid1_hostname_env(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    uf = tmp_path / "uuid"
    r = run(rkt, f"--uuid-file-save={uf}", *sh(busybox, "ps -o pid,comm; hostname; echo FOO=$FOO; exit 7"))
    assert r.code == 7, str(r)
    uuid = uf.read_text().strip()
    procs = [line.split() for line in r.out.splitlines()[1:] if line.strip() and line.split()[0].isdigit()]
    assert procs[0] == ["1", "rkt-supervisor"], str(r)
    # the supervisor, the shell and ps: nothing of the host
    assert [p[0] for p in procs] == ["1", "2", procs[2][0]] and len(procs) == 3, str(r)
    assert f"rkt-{uuid}" in r.out.splitlines()
    assert "FOO=image" in r.out
    assert app_status(rkt, "busybox") == 7
    gc_and_check(rkt, uuid)


def test_hostname_flag_and_private_network(rkt: Rkt, busybox: str) -> None:
    r = run(rkt, "--hostname=podhost", *sh(busybox, "hostname; ls /sys/class/net"), net="--net=none")
    assert r.code == 0, str(r)
    lines = r.out.split()
    assert lines[0] == "podhost"
    assert lines[1:] == ["lo"], str(r)


def test_supervisor_and_host_unreachable_through_proc(rkt: Rkt, busybox: str) -> None:
    script = ("echo x > /proc/1/exe && echo EXE-WRITABLE; ls /proc/1/root/ && echo ROOT-VISIBLE; "
              "cat /proc/1/environ && echo ENV-VISIBLE; readlink /proc/1/fd/0 && echo FD-VISIBLE; "
              "ls /proc/1/cwd/ && echo CWD-VISIBLE; "
              "echo 1 > /proc/sys/kernel/ns_last_pid && echo SYSCTL-WRITABLE; ls /sys/firmware | wc -l; exit 0")
    r = run(rkt, *sh(busybox, script))
    assert r.code == 0, str(r)
    for bad in ("EXE-WRITABLE", "ROOT-VISIBLE", "ENV-VISIBLE", "FD-VISIBLE", "CWD-VISIBLE", "SYSCTL-WRITABLE"):
        assert bad not in r.out, str(r)
    assert r.out.strip().splitlines()[-1] == "0"


def test_kernel_paths_masked_and_read_only(rkt: Rkt, busybox: str) -> None:
    script = ("wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
              "for p in /proc/sys/kernel /proc/irq /proc/bus /proc/fs; do "
              "[ -e $p ] || continue; touch $p/x 2>/dev/null && echo WRITABLE $p; "
              "grep -q \" $p ro,\" /proc/self/mountinfo || "
              "grep -q \" ${p%/kernel} ro,\" /proc/self/mountinfo || echo NOT-RO $p; done; exit 0")
    r = run(rkt, *sh(busybox, script))
    assert r.code == 0, str(r)
    lines = r.out.split("\n")
    assert lines[:3] == ["0", "0", "0"], str(r)  # /dev/null over the files, an empty tmpfs over the dir
    assert "WRITABLE" not in r.out and "NOT-RO" not in r.out, str(r)


def test_pod_mounts_stay_out_of_the_host(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    p, uuid = _start(rkt, tmp_path, *sh(busybox, "sleep 300"))
    (pod,) = rkt.pods()
    with open("/proc/self/mountinfo") as f:
        host = [line.split()[4] for line in f]
    inside = [m for m in host if m.startswith(str(pod))]
    # the host sees the pod's overlay roots (made by stage0), never the app's proc, sys, dev
    assert all(m.endswith("/rootfs") for m in inside), inside
    rkt("stop", "--force", uuid)
    p.communicate(timeout=20)
    gc_and_check(rkt, uuid)


# --- several apps ------------------------------------------------------------------------


def test_three_apps_first_failure_stops_siblings(rkt: Rkt, busybox: str) -> None:
    t = time.monotonic()
    r = run(rkt, *sh(busybox, "exit 0", "--name=ok"), "---",
            *sh(busybox, "sleep 0.5; exit 3", "--name=fails"), "---",
            *sh(busybox, "ps -o pid,comm > /dev/null; sleep 30", "--name=sleeper"))
    assert r.code == 3, str(r)
    assert time.monotonic() - t < 10
    assert app_status(rkt, "ok") == 0
    assert app_status(rkt, "fails") == 3
    assert app_status(rkt, "sleeper") in (143, 137)


def test_three_apps_share_pid_namespace_and_all_succeed(rkt: Rkt, busybox: str) -> None:
    r = run(rkt, *sh(busybox, "sleep 1; ps -o comm | grep -c sleep; exit 0", "--name=a"), "---",
            *sh(busybox, "sleep 2", "--name=b"), "---", *sh(busybox, "sleep 2", "--name=c"))
    assert r.code == 0, str(r)
    assert int(r.out.split()[0]) >= 2  # sees the other apps' sleeps
    assert [app_status(rkt, a) for a in ("a", "b", "c")] == [0, 0, 0]


# --- volumes ----------------------------------------------------------------------------


def test_volumes_rw_reaches_host_and_ro_refuses(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (ro / "given").write_text("from host\n")
    r = run(rkt, f"--volume=rw,kind=host,source={rw}", f"--volume=ro,kind=host,source={ro},readOnly=true",
            *sh(busybox, "echo hello > /data/out; cat /ro/given; echo no > /ro/new || echo RO-REFUSED",
                "--mount=volume=rw,target=/data", "--mount=volume=ro,target=/ro"))
    assert r.code == 0, str(r)
    assert (rw / "out").read_text() == "hello\n"
    assert "from host" in r.out and "RO-REFUSED" in r.out
    assert not (ro / "new").exists()


def test_image_read_only_mount_point_refuses_writes(rkt: Rkt, image: Any, tmp_path: Path) -> None:
    img = image(app={"mountPoints": [{"name": "data", "path": "/srv/data", "readOnly": True}]})
    host = tmp_path / "host"
    host.mkdir()
    r = run(rkt, f"--volume=data,kind=host,source={host}",
            *sh(img, "echo no > /srv/data/new || echo RO-REFUSED"))
    assert r.code == 0, str(r)
    assert "RO-REFUSED" in r.out
    assert not (host / "new").exists()


def _with_symlink(src: str, dest: Path, name: str, target: str) -> str:
    dest.write_bytes(Path(src).read_bytes())
    with tarfile.open(dest, "a") as tf:
        ti = tarfile.TarInfo(f"rootfs/{name}")
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        tf.addfile(ti)
    return str(dest)


def test_symlinked_mount_target_stays_inside_root(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "marker").write_text("volume\n")
    img = _with_symlink(busybox, tmp_path / "evil.aci", "escape", str(outside))
    r = run(rkt, f"--volume=v,kind=host,source={vol}",
            *sh(img, f"cat {outside}/marker; echo w > /escape/written", "--mount=volume=v,target=/escape"))
    assert r.code == 0, str(r)
    assert "volume" in r.out  # the volume is at the in-root resolution of the link
    assert (vol / "written").exists()
    assert not (outside / "written").exists() and not (outside / "marker").exists()


# --- credentials, capabilities, seccomp ----------------------------------------------------


def test_user_group_and_supplementary_groups_by_name(rkt: Rkt, busybox: str) -> None:
    r = run(rkt, *sh(busybox, "id -u; id -g; id -G; grep Cap /proc/self/status", "--user=user", "--group=audio",
                     "--supplementary-gids=100"))
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0] == "1000" and lines[1] == "29"
    assert {"29", "44", "100"} <= set(lines[2].split())
    caps = {k: int(v, 16) for k, v in (line.split(":\t") for line in lines[3:])}
    assert caps["CapEff"] == 0 and caps["CapPrm"] == 0  # a non-root user has none at work
    assert caps["CapBnd"] == DEFAULT_CAPS


def _caps(out: str) -> dict[str, int]:
    return {k: int(v, 16) for k, v in (line.split(":\t") for line in out.splitlines() if line.startswith("Cap"))}


@pytest.mark.parametrize(("flags", "want"), [
    ((), DEFAULT_CAPS),
    (("--caps-remove=CAP_CHOWN,CAP_KILL",), DEFAULT_CAPS & ~(1 << 0) & ~(1 << 5)),
    (("--caps-retain=CAP_NET_ADMIN,CAP_SYS_TIME",), (1 << 12) | (1 << 25)),
])
def test_capability_sets(rkt: Rkt, busybox: str, flags: tuple[str, ...], want: int) -> None:
    r = run(rkt, *sh(busybox, "grep Cap /proc/self/status", *flags))
    assert r.code == 0, str(r)
    caps = _caps(r.out)
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapBnd"] == want, str(r)
    assert caps["CapAmb"] == 0


def test_insecure_capabilities_keeps_all(rkt: Rkt, busybox: str) -> None:
    r = rkt("--insecure-options=image,capabilities", "run", CO, "--net=host",
            *sh(busybox, "grep Cap /proc/self/status"))
    assert r.code == 0, str(r)
    assert _caps(r.out)["CapBnd"] > DEFAULT_CAPS | (1 << 21)


def test_default_seccomp_blocks_and_insecure_option_lifts(rkt: Rkt, busybox: str) -> None:
    # creating a user namespace needs no capability: only the filter stops it
    r = run(rkt, *sh(busybox, "unshare -U true && echo ALLOWED || echo BLOCKED"))
    assert "BLOCKED" in r.out, str(r)
    r = rkt("--insecure-options=image,seccomp", "run", CO, "--net=host",
            *sh(busybox, "unshare -U true && echo ALLOWED || echo BLOCKED"))
    assert "ALLOWED" in r.out, str(r)


def test_seccomp_flag_remove_set_with_errno_and_kill(rkt: Rkt, busybox: str) -> None:
    r = run(rkt, *sh(busybox, "nc 127.0.0.1 9", "--seccomp=mode=remove,errno=ENOTSUP,socket"))
    assert "Operation not supported" in r.err + r.out, str(r)
    r = run(rkt, *sh(busybox, "uname -a", "--seccomp=mode=remove,uname"))
    assert r.code == 128 + 31, str(r)  # SIGSYS


def test_no_new_privileges_isolator(rkt: Rkt, image: Any) -> None:
    img = image(exec_=("/bin/sh", "-c", "grep NoNewPrivs /proc/self/status"),
                app={"isolators": [{"name": "os/linux/no-new-privileges", "value": True}]})
    r = run(rkt, img)
    assert r.code == 0, str(r)
    assert r.out.split() == ["NoNewPrivs:", "1"]


# --- cgroups -----------------------------------------------------------------------------


def test_memory_limit_visible_and_enforced(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    uf = tmp_path / "uuid"
    r = run(rkt, f"--uuid-file-save={uf}", *sh(busybox, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                                                         "/sys/fs/cgroup/memory.max 2>/dev/null; exit 0",
                                                "--memory=32M"))
    assert r.code == 0, str(r)
    assert int(r.out.split()[0]) in range(32_000_000 - 4096, 32_000_001)
    gc_and_check(rkt, uf.read_text().strip())
    r = run(rkt, *sh(busybox, 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo SURVIVED', "--memory=32M"))
    assert r.code == 137 and "SURVIVED" not in r.out, str(r)


def test_limit_the_kernel_refuses_fails_the_run_and_leaves_nothing(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    uf = tmp_path / "uuid"
    # a CPU quota under the kernel's 1 ms minimum: refused when the app's cgroup is configured
    r = run(rkt, f"--uuid-file-save={uf}", *sh(busybox, "echo STARTED", "--cpu=1m"))
    assert r.code == 254, str(r)
    assert "STARTED" not in r.out
    assert len(r.err.strip().splitlines()) == 1 and "Invalid argument" in r.err, str(r)
    assert not pod_cgroups(uf.read_text().strip())
    assert not rkt.pods()


# --- enter, stop, gc ---------------------------------------------------------------------


def _start(rkt: Rkt, tmp_path: Path, *args: str) -> tuple[Any, str]:
    uf = tmp_path / "uuid"
    p = rkt.popen("--insecure-options=image", "run", CO, "--net=host", f"--uuid-file-save={uf}", *args)
    uuid = uuid_of(rkt, uf)
    wait_for(lambda: any((pod / "stage1-data" / "apps").is_dir() and os.listdir(pod / "stage1-data" / "apps")
                         for pod in rkt.pods()), what="app started")
    return p, uuid


def test_enter_sees_pod_pid_namespace_env_and_app_privileges(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    p, uuid = _start(rkt, tmp_path, *sh(busybox, "sleep 300", "--environment=BAR=app"))
    r = rkt("enter", uuid, "/bin/sh", "-c", "ps -o pid,comm; echo FOO=$FOO BAR=$BAR; hostname; "
                                            "grep -E 'CapBnd|Seccomp:' /proc/self/status")
    assert r.code == 0, str(r)
    assert "1 rkt-supervisor" in r.out and "sleep" in r.out
    assert "FOO=image BAR=app" in r.out
    assert f"rkt-{uuid}" in r.out
    assert f"CapBnd:\t{DEFAULT_CAPS:016x}" in r.out
    assert "Seccomp:\t2" in r.out
    r = rkt("enter", uuid, "/bin/sh", "-c", "exit 9")
    assert r.code == 9
    rkt("stop", "--force", uuid)
    p.communicate(timeout=20)
    gc_and_check(rkt, uuid)


def test_stop_is_graceful_then_forced(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    p, uuid = _start(rkt, tmp_path, *sh(busybox, "sleep 300"))
    t = time.monotonic()
    r = rkt("stop", uuid)
    assert r.code == 0, str(r)
    p.communicate(timeout=20)
    assert time.monotonic() - t < 5
    assert p.returncode == 143
    assert app_status(rkt, "busybox") == 143
    gc_and_check(rkt, uuid)


def test_stop_kills_after_timeout_and_force_kills_at_once(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    stubborn = "trap '' TERM; while true; do sleep 0.1; done"
    p, uuid = _start(rkt, tmp_path, *sh(busybox, stubborn))
    t = time.monotonic()
    rkt("stop", "--timeout=1", uuid)
    p.communicate(timeout=20)
    took = time.monotonic() - t
    assert 0.9 < took < 6, took
    assert p.returncode == 137
    gc_and_check(rkt, uuid)
    (tmp_path / "uuid").unlink()
    p, uuid = _start(rkt, tmp_path, *sh(busybox, stubborn))
    t = time.monotonic()
    rkt("stop", "--force", uuid)
    p.communicate(timeout=20)
    assert time.monotonic() - t < 3
    gc_and_check(rkt, uuid)


def test_interactive_app_gets_the_terminal(rkt: Rkt, busybox: str) -> None:
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(rkt.argv(())[0]), [*rkt.argv(("--insecure-options=image", "run", CO, "--net=host",
                                                   "--interactive", busybox))])
    out = b""
    try:
        os.write(fd, b"test -t 0 && echo IS-A-TTY; echo $((6*7)); exit 4\n")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 4, out
    assert b"IS-A-TTY" in out and b"42" in out, out
