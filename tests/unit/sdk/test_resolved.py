"""The resolved app (rkt_sdk.resolved): environment precedence, PATH, credentials, and the read-only rule."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.appc import App, MountPoint, PodManifest, Volume
from rkt_sdk.errors import FlavorError
from rkt_sdk.linux.creds import CredentialsError
from rkt_sdk.resolved import (
    DEFAULT_PATH,
    empty_volume_dir,
    environment,
    make_volume_dirs,
    mount_read_only,
    resolve_app,
)
from rkt_sdk.types import Pod, PodApp

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
GROUP = "root:x:0:\nuser:x:1000:\nstaff:x:50:user\n"
ID = "sha512-" + "a" * 64


def make_pod(tmp_path: Path, app: dict[str, Any], mounts: list[dict[str, str]] | None = None,
             volumes: list[dict[str, Any]] | None = None) -> Pod:
    root = tmp_path / "pod" / "apps" / "web" / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/group").write_text(GROUP)
    ra = {"name": "web", "image": {"name": "example.com/web", "id": ID}, "app": {"exec": ["/bin/sh"], **app},
          "mounts": mounts or []}
    man = PodManifest.from_dict({"acKind": "PodManifest", "acVersion": "0.8.11", "apps": [ra],
                                 "volumes": volumes or []})
    return Pod("0d9bd4c4-3f2a-4a7c-9d6e-0c9e8d8c1a11", tmp_path / "pod", man,
               (PodApp("web", root, man.apps[0]),))


def env_of(**kv: str) -> App:
    return App.from_dict({"exec": ["/bin/sh"], "environment": [{"name": k, "value": v} for k, v in kv.items()]})


# --- environment -------------------------------------------------------------------------


def test_defaults_then_the_apps_environment_then_ac_app_name(tmp_path: Path) -> None:
    pod = make_pod(tmp_path, {"user": "user", "group": "user",
                              "environment": [{"name": "HOME", "value": "/srv"}, {"name": "FOO", "value": "x"},
                                              {"name": "AC_APP_NAME", "value": "other"}]})
    env = resolve_app(pod, pod.apps[0]).env
    assert env == {"PATH": DEFAULT_PATH, "HOME": "/srv", "USER": "user", "LOGNAME": "user", "SHELL": "/bin/sh",
                   "container": "rkt", "FOO": "x", "AC_APP_NAME": "web"}


def test_path_is_the_default_unless_the_app_sets_one() -> None:
    assert environment("a", env_of(), None)["PATH"] == DEFAULT_PATH
    assert environment("a", env_of(PATH="/opt/bin"), None)["PATH"] == "/opt/bin"


def test_home_user_and_shell_need_credentials(tmp_path: Path) -> None:
    assert set(environment("a", env_of(), None)) == {"PATH", "container", "AC_APP_NAME"}
    pod = make_pod(tmp_path, {"user": "1234", "group": "0"})
    env = resolve_app(pod, pod.apps[0]).env
    assert env["HOME"] == "/" and "USER" not in env and "LOGNAME" not in env


def test_term_only_when_the_app_shares_the_callers_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-test")
    assert "TERM" not in environment("a", env_of(), None)
    assert environment("a", env_of(), None, terminal=True)["TERM"] == "xterm-test"
    assert environment("a", env_of(TERM="dumb"), None, terminal=True)["TERM"] == "dumb"


# --- argv, credentials, working directory -------------------------------------------------


def test_argv_creds_and_cwd(tmp_path: Path) -> None:
    pod = make_pod(tmp_path, {"exec": ["/bin/echo", "a b"], "user": "user", "group": "staff",
                              "supplementaryGIDs": [7], "workingDirectory": "/tmp"})
    ra = resolve_app(pod, pod.apps[0])
    assert ra.argv == ("/bin/echo", "a b")
    assert (ra.creds.uid, ra.creds.gid, ra.creds.groups, ra.creds.home) == (1000, 50, (7, 50), "/home/user")
    assert ra.cwd == "/tmp"
    assert resolve_app(make_pod(tmp_path / "2", {}), make_pod(tmp_path / "3", {}).apps[0]).cwd == "/"


def test_unknown_user_or_missing_exec_is_refused(tmp_path: Path) -> None:
    pod = make_pod(tmp_path, {"user": "nobody-here"})
    with pytest.raises(CredentialsError, match="app 'web': user 'nobody-here' not found in the image"):
        resolve_app(pod, pod.apps[0])
    pod = make_pod(tmp_path / "2", {"exec": []})
    with pytest.raises(FlavorError, match="app 'web': no exec"):
        resolve_app(pod, pod.apps[0])


# --- mounts and the read-only rule ------------------------------------------------------


@pytest.mark.parametrize(("volume_ro", "point_ro", "point_name", "expected"), [
    (True, None, "", True),
    (True, False, "data", True),
    (False, True, "data", False),
    (False, None, "", False),
    (None, True, "data", True),
    (None, False, "data", False),
    (None, None, "", False),
    (None, True, "other", False),  # a mount point of another name says nothing of this volume
])
def test_read_only_rule(volume_ro: bool | None, point_ro: bool | None, point_name: str, expected: bool) -> None:
    points = (MountPoint(point_name, "/anywhere", bool(point_ro)),) if point_name else ()
    app = App(exec=("/bin/sh",), mount_points=points)
    assert mount_read_only(Volume("data", "empty", read_only=volume_ro), app) is expected


def test_mounts_follow_the_rule_whatever_the_target_path(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    pod = make_pod(tmp_path, {"mountPoints": [{"name": "data", "path": "/srv/data", "readOnly": True}]},
                   mounts=[{"volume": "data", "path": "/elsewhere"}, {"volume": "scratch", "path": "/scratch"}],
                   volumes=[{"name": "data", "kind": "host", "source": str(host)},
                            {"name": "scratch", "kind": "empty", "mode": "0700", "uid": 1000, "gid": 50}])
    data, scratch = resolve_app(pod, pod.apps[0]).mounts
    assert (data.source, data.target, data.read_only, data.recursive) == (str(host), "/elsewhere", True, True)
    assert (scratch.source, scratch.read_only) == (str(empty_volume_dir(pod.path, "scratch")), False)
    assert not os.path.exists(scratch.source), "resolving makes nothing"
    make_volume_dirs([data, scratch])
    make_volume_dirs([scratch])  # a second app sharing it finds it made
    st = os.stat(scratch.source)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o700, 1000, 50)


def test_volume_errors_come_before_anything_is_made(tmp_path: Path) -> None:
    pod = make_pod(tmp_path, {}, mounts=[{"volume": "v", "path": "/v"}],
                   volumes=[{"name": "v", "kind": "host", "source": str(tmp_path / "missing")}])
    with pytest.raises(FlavorError, match=r"app 'web': volume 'v': host path .*missing does not exist"):
        resolve_app(pod, pod.apps[0])
    pod = make_pod(tmp_path / "2", {}, mounts=[{"volume": "v", "path": "/v"}],
                   volumes=[{"name": "v", "kind": "empty", "mode": "rwx"}])
    with pytest.raises(FlavorError, match="bad mode 'rwx'"):
        resolve_app(pod, pod.apps[0])
    assert not (pod.path / "stage1-data").exists()


def test_volume_read_only_round_trips_unset(tmp_path: Path) -> None:
    assert Volume.from_dict({"name": "v", "kind": "empty"}).read_only is None
    assert "readOnly" not in Volume("v", "empty").to_dict()
    assert Volume.from_dict({"name": "v", "kind": "empty", "readOnly": False}).to_dict()["readOnly"] is False
