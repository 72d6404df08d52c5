"""``rkt run --stage1-name=fly``: what the app gets (exit code, stdio, environment, user, mounts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import FLY, Rkt

pytestmark = pytest.mark.root


def sh(script: str) -> tuple[str, ...]:
    return ("--exec=/bin/sh", "--", "-c", script, "---")


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_code_is_the_apps(rkt: Rkt, busybox: str, code: int) -> None:
    r = rkt("run", FLY, busybox, *sh(f"exit {code}"))
    assert r.code == code, str(r)


def test_stdout_and_stderr_pass_through(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, *sh("echo to-out; echo to-err >&2"))
    assert r.out == "to-out\n"
    assert "to-err\n" in r.err


def test_stdin_passes_through(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, "--exec=/bin/cat", input="line one\nline two\n")
    assert r.out == "line one\nline two\n"


def test_image_exec_and_env_by_default(rkt: Rkt, image: Any) -> None:
    img = image(exec_=("/bin/sh", "-c", "echo $FOO $AC_APP_NAME; exit 3"), env={"FOO": "from-image"},
                name="example.com/hello")
    r = rkt("run", FLY, img)
    assert r.code == 3, str(r)
    assert r.out == "from-image hello\n"


def test_args_are_appended_to_the_exec(rkt: Rkt, image: Any) -> None:
    img = image(exec_=("/bin/echo", "from-image"))
    r = rkt.run_ok("run", FLY, img, "--", "a", "b c", "---")
    assert r.out == "from-image a b c\n"


def test_exec_overrides_the_image_exec(rkt: Rkt, image: Any) -> None:
    img = image(exec_=("/bin/echo", "from-image"))
    r = rkt.run_ok("run", FLY, img, "--exec=/bin/echo", "--", "only", "these", "---")
    assert r.out == "only these\n"


def test_app_flags_before_the_image_apply_and_after_it_override(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, "--exec=/bin/pwd", "--working-dir=/etc", busybox)
    assert r.out == "/etc\n"
    r = rkt.run_ok("run", FLY, "--exec=/bin/pwd", "--working-dir=/etc", busybox, "--working-dir=/bin")
    assert r.out == "/bin\n"


def test_working_dir(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, "--working-dir=/home/user", *sh("pwd"))
    assert r.out == "/home/user\n"


def test_environment_defaults(rkt: Rkt, image: Any) -> None:
    img = image(name="example.com/env-app")
    r = rkt.run_ok("run", FLY, img, "--exec=/bin/env")
    env = dict(line.split("=", 1) for line in r.out.splitlines())
    assert env["AC_APP_NAME"] == "env-app"
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["HOME"] == "/root"
    assert "RKT_TEST_HOST_ONLY" not in env


def test_environment_precedence(rkt: Rkt, image: Any, tmp_path: Path) -> None:
    """--inherit-env < image env < --set-env-file < --set-env < --environment (last wins)."""
    img = image(env={"V1": "image", "V2": "image", "V3": "image", "V4": "image"})
    envfile = tmp_path / "env"
    envfile.write_text("# a comment\n; another\n\nV2=file\nV3=file\nV4=file\nF=file\n")
    host_env = dict(os.environ, V0="host", V1="host", V4="host")
    r = rkt.run_ok("run", FLY, "--inherit-env", f"--set-env-file={envfile}", "--set-env=V3=setenv",
                   "--set-env=V4=setenv", img, "--environment=V4=app", "--exec=/bin/env", env=host_env)
    env = dict(line.split("=", 1) for line in r.out.splitlines())
    assert (env["V0"], env["V1"], env["V2"], env["V3"], env["V4"], env["F"]) == \
           ("host", "image", "file", "setenv", "app", "file")
    assert env["PATH"] == os.environ["PATH"], "--inherit-env passes the caller's PATH"


def test_set_env_applies_to_the_app_without_inherit(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, "--set-env=FOO=overridden", "--set-env=BAR=x=y", busybox, *sh('echo "$FOO $BAR"'),
                   env=dict(os.environ, BAR="host"))
    assert r.out == "overridden x=y\n"


def test_caller_environment_is_not_inherited_by_default(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, *sh('echo "[$ONLY_ON_HOST]"'), env=dict(os.environ, ONLY_ON_HOST="x"))
    assert r.out == "[]\n"


@pytest.mark.parametrize("flags, expect", [
    ((), "uid=0(root) gid=0(root)"),
    (("--user=user", "--group=user"), "uid=1000(user) gid=1000(user)"),
    (("--user=1000", "--group=1000"), "uid=1000(user) gid=1000(user)"),
    (("--user=1000", "--group=audio"), "uid=1000(user) gid=29(audio)"),
    (("--user=4242", "--group=4343"), "uid=4242 gid=4343"),
])
def test_user_and_group(rkt: Rkt, busybox: str, flags: tuple[str, ...], expect: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, *flags, *sh("id"))
    assert r.out.startswith(expect), r.out


def test_supplementary_groups_from_the_image_and_the_flag(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, "--user=user", "--group=user", "--supplementary-gids=5,6", *sh("id -G"))
    assert set(r.out.split()) == {"1000", "5", "6", "29", "44"}


def test_user_gets_its_home(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, "--user=user", *sh('echo "$HOME $USER"'))
    assert r.out == "/home/user user\n"


def test_unknown_user_is_an_error(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", FLY, busybox, "--user=nosuchuser", *sh("true"))
    assert r.code == 254, str(r)
    assert "nosuchuser" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_read_write_host_volume_writes_reach_the_host(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("from host\n")
    r = rkt.run_ok("run", FLY, f"--volume=data,kind=host,source={host}", busybox,
                   "--mount=volume=data,target=/data", *sh("cat /data/in; echo from app > /data/out"))
    assert r.out == "from host\n"
    assert (host / "out").read_text() == "from app\n"


def test_read_only_host_volume_refuses_writes(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("x\n")
    r = rkt("run", FLY, f"--volume=data,kind=host,source={host},readOnly=true", busybox,
            "--mount=volume=data,target=/data", *sh("cat /data/in && echo y > /data/out"))
    assert r.code != 0, str(r)
    assert r.out == "x\n"
    assert "Read-only file system" in r.err
    assert not (host / "out").exists()


def test_host_volume_of_a_file(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    f = tmp_path / "config"
    f.write_text("setting=1\n")
    r = rkt.run_ok("run", FLY, f"--volume=cfg,kind=host,source={f}", busybox,
                   "--mount=volume=cfg,target=/etc/app.conf", *sh("cat /etc/app.conf"))
    assert r.out == "setting=1\n"


def test_empty_volume(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, "--volume=scratch,kind=empty,mode=0700,uid=1000,gid=1000", busybox,
                   "--mount=volume=scratch,target=/scratch",
                   *sh("ls -A /scratch; stat -c '%a %u %g' /scratch; echo hi > /scratch/f && cat /scratch/f"))
    assert r.out == "700 1000 1000\nhi\n"


@pytest.mark.parametrize("mount", [(), ("--mount=volume=data,target=/elsewhere",)], ids=["implied", "--mount"])
def test_image_read_only_mount_point_refuses_writes(rkt: Rkt, image: Any, tmp_path: Path,
                                                    mount: tuple[str, ...]) -> None:
    """The image declares its mount point read-only: the volume of that name is mounted read-only,
    where the image puts it or wherever ``--mount`` puts it (the volume sets no ``readOnly``)."""
    img = image(app={"mountPoints": [{"name": "data", "path": "/srv/data", "readOnly": True}]})
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("x\n")
    where = "/elsewhere" if mount else "/srv/data"
    r = rkt("run", FLY, f"--volume=data,kind=host,source={host}", img, *mount,
            *sh(f"cat {where}/in && echo y > {where}/out"))
    assert r.code != 0, str(r)
    assert r.out == "x\n"
    assert "Read-only file system" in r.err
    assert not (host / "out").exists()


def test_volume_read_only_false_overrides_the_image_mount_point(rkt: Rkt, image: Any, tmp_path: Path) -> None:
    img = image(app={"mountPoints": [{"name": "data", "path": "/srv/data", "readOnly": True}]})
    host = tmp_path / "host"
    host.mkdir()
    rkt.run_ok("run", FLY, f"--volume=data,kind=host,source={host},readOnly=false", img,
               *sh("echo y > /srv/data/out"))
    assert (host / "out").read_text() == "y\n"


def test_image_mount_points_get_the_volume_of_their_name(rkt: Rkt, image: Any, tmp_path: Path) -> None:
    img = image(app={"mountPoints": [{"name": "data", "path": "/srv/data"}]})
    host = tmp_path / "host"
    host.mkdir()
    r = rkt.run_ok("run", FLY, f"--volume=data,kind=host,source={host}", img, *sh("echo w > /srv/data/f"))
    assert r.out == ""
    assert (host / "f").read_text() == "w\n"


def test_mount_flag_overrides_the_mount_point_path(rkt: Rkt, image: Any, tmp_path: Path) -> None:
    img = image(app={"mountPoints": [{"name": "data", "path": "/srv/data"}]})
    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("content\n")
    rkt.run_ok("run", FLY, f"--volume=data,kind=host,source={host}", img, "--mount=volume=data,target=/other",
               *sh("cat /other/f"))


def test_mount_of_an_undefined_volume_is_an_error(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", FLY, busybox, "--mount=volume=nope,target=/data", *sh("true"))
    assert r.code == 254, str(r)
    assert '"nope"' in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_missing_host_volume_source_is_an_error(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    r = rkt("run", FLY, f"--volume=data,kind=host,source={tmp_path}/missing", busybox,
            "--mount=volume=data,target=/data", *sh("true"))
    assert r.code == 254, str(r)
    assert f"{tmp_path}/missing" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_uuid_file_save(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    f = tmp_path / "uuid"
    rkt.run_ok("run", FLY, f"--uuid-file-save={f}", busybox, *sh("true"))
    uuid = f.read_text().strip()
    assert len(uuid) == 36
    assert [p.name for p in rkt.pods()] == [uuid]


def test_hostname_is_accepted(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, "--hostname=my-pod", busybox, *sh("echo ok"))
    assert r.out == "ok\n"


def test_tmp_is_a_fresh_tmpfs_and_proc_dev_are_there(rkt: Rkt, busybox: str) -> None:
    r = rkt.run_ok("run", FLY, busybox, *sh("ls -A /tmp; test -e /dev/null && test -e /proc/self/status && "
                                            "grep -q ' /tmp tmpfs ' /proc/mounts && echo ok"))
    assert r.out == "ok\n"


def test_app_is_the_pod_process(rkt: Rkt, busybox: str, data_dir: Path) -> None:
    r = rkt.run_ok("run", FLY, busybox, *sh("echo $$"))
    pod = rkt.pods()[0]
    assert (pod / "pid").read_text().strip() == r.out.strip()


def test_a_second_app_is_refused(rkt: Rkt, busybox: str, image: Any) -> None:
    other = image(name="example.com/other")
    r = rkt("run", FLY, busybox, *sh("true"), other)
    assert r.code == 254, str(r)
    assert "fly" in r.err and "one app" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_missing_exec_binary_is_an_error_and_leaves_nothing(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", FLY, busybox, "--exec=/bin/nonexistent")
    assert r.code == 254, str(r)
    assert "/bin/nonexistent" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


def test_relative_exec_is_an_error(rkt: Rkt, busybox: str) -> None:
    r = rkt("run", FLY, busybox, "--exec=bin/sh")
    assert r.code == 254, str(r)
    assert "--exec=bin/sh" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert rkt.pods() == []


# the pod's mounts and what a run costs

def test_fly_mounts_stay_in_the_pods_own_mount_namespace(rkt: Rkt, busybox: str, tmp_path: Path) -> None:
    from tests.functional.conftest import mounts_under, wait_for

    uuid_file = tmp_path / "uuid"
    p = rkt.popen("run", FLY, f"--uuid-file-save={uuid_file}", busybox, *sh("echo ready > /tmp/r; exec sleep 60"))
    uuid = wait_for(lambda: uuid_file.exists() and uuid_file.read_text().strip(), what="the pod's uuid")
    pod = rkt.data / "pods" / "run" / uuid
    wait_for(lambda: (pod / "pid").exists() and rkt("enter", uuid, "/bin/cat", "/tmp/r").out == "ready\n",
             what="the app to start")
    pid = int((pod / "pid").read_text())
    rootfs = pod / "apps" / "busybox" / "rootfs"
    assert mounts_under(pod) == [str(rootfs)]  # only stage0's overlay is in the host's table
    with open(f"/proc/{pid}/mountinfo") as f:  # mount points as the chrooted app sees them
        inside = {line.split(" ")[4] for line in f}
    assert {"/", "/dev", "/proc", "/sys", "/tmp"} <= inside
    assert rkt.run_ok("enter", uuid, "/bin/sh", "-c", "ls /dev/null; cat /tmp/r").out == "/dev/null\nready\n"
    rkt.run_ok("stop", "--force", uuid)
    p.communicate(timeout=30)


def test_a_fly_run_imports_nothing_it_does_not_use(rkt: Rkt, image: Any) -> None:
    import re
    import subprocess
    import sys

    from tests.functional.conftest import RKT

    img = image(exec_=("/bin/true",))
    image_id = rkt.run_ok("fetch", "--insecure-options=image", img).out.split()[-1]
    argv = [sys.executable, "-X", "importtime", str(RKT), f"--dir={rkt.data}", "run", FLY, image_id]
    for _ in range(2):  # the first run validates the flavor through pluggy and remembers it
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
    imported = set(re.findall(r"^import time:.*\|\s*(\S+)$", p.stderr, re.M))
    assert "rkt.podflow.start" in imported and "rkt_stage1_fly.launch" in imported
    unwanted = {"sqlite3", "pluggy", "rkt.net", "importlib.metadata", "dataclasses", "shutil", "uuid", "platform",
                "tempfile", "bz2", "lzma"}
    assert not imported & unwanted
