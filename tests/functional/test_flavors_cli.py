"""``rkt flavors``, ``rkt config`` and per-host ``stage1.d`` configs, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.aci import build_aci

RKT = str(Path(sys.executable).with_name("rkt"))
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    d = {k: tmp_path / k for k in ("data", "system", "local", "user")}
    for p in d.values():
        p.mkdir()
    return d


@pytest.fixture
def rkt(dirs: dict[str, Path]) -> Run:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RKT, f"--dir={dirs['data']}", f"--system-config={dirs['system']}",
                               f"--local-config={dirs['local']}", f"--user-config={dirs['user']}",
                               "--insecure-options=image", *args],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    return run


def put(base: Path, sub: str, name: str, doc: Any) -> Path:
    d = base / sub
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def stage1(**fields: Any) -> dict[str, Any]:
    return {"rktKind": "stage1", "rktVersion": "v1", **fields}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_aci(tmp_path_factory.mktemp("img") / "bb.aci", "example.com/flavors-cli")


# --- rkt flavors ---------------------------------------------------------------------------


def test_flavors_json_lists_fly(rkt: Run) -> None:
    r = rkt("flavors", "--format=json")
    assert r.returncode == 0, r.stderr
    fly = {f["name"]: f for f in json.loads(r.stdout)}["fly"]
    assert fly["distribution"] == "rkt-stage1-fly"
    assert fly["broken"] is False and fly["interfaceVersion"] >= 1
    assert fly["capabilities"]["multiApp"] is False and fly["capabilities"]["networkModes"] == ["host"]
    assert fly["canRun"] is (os.geteuid() == 0)


def test_flavors_table_marks_the_configured_default(rkt: Run, dirs: dict[str, Path]) -> None:
    put(dirs["local"], "stage1.d", "default.json", stage1(name="fly"))
    r = rkt("flavors")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "DISTRIBUTION", "VERSION"]
    fly = next(ln for ln in lines if ln.startswith("fly"))
    assert fly.startswith("fly *") and "rkt-stage1-fly" in fly
    assert fly.rstrip().endswith("yes") if os.geteuid() == 0 else "no:" in fly
    assert "* default flavor" in lines
    assert rkt("flavors", "--no-legend").stdout.splitlines()[0].split()[0] != "NAME"


# --- rkt config ----------------------------------------------------------------------------


def test_config_prints_the_merged_layers(rkt: Run, dirs: dict[str, Path]) -> None:
    put(dirs["system"], "stage1.d", "vendor.json", stage1(name="coreos", settings={"fly": {"tmpfs-size": "1m"}}))
    put(dirs["local"], "stage1.d", "host.json", stage1(name="fly", version="0.1.0"))
    put(dirs["user"], "stage1.d", "mine.json", stage1(settings={"fly": {"tmpfs-size": "2m"}}))
    put(dirs["system"], "paths.d", "paths.json", {"rktKind": "paths", "rktVersion": "v1", "data": "/srv/rkt"})
    put(dirs["system"], "auth.d", "a.json", {"rktKind": "auth", "rktVersion": "v1",
                                             "domains": ["a.example", "b.example"],
                                             "type": "oauth", "credentials": {"token": "sys"}})
    put(dirs["local"], "auth.d", "b.json", {"rktKind": "auth", "rktVersion": "v1", "domains": ["b.example"],
                                            "type": "basic", "credentials": {"user": "u", "password": "p"}})
    put(dirs["local"], "docker-auth.d", "d.json", {"rktKind": "dockerAuth", "rktVersion": "v1",
                                                   "registries": ["registry.example"],
                                                   "credentials": {"user": "du", "password": "dp"}})
    r = rkt("config")
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in cfg["stage0"]:
        assert e["rktVersion"] == "v1"
        by_kind.setdefault(e["rktKind"], []).append(e)
    assert by_kind["stage1"] == [{"rktVersion": "v1", "rktKind": "stage1", "name": "fly", "version": "0.1.0"}]
    assert by_kind["paths"][0]["data"] == str(dirs["data"])  # --dir wins over paths.d
    auth = {e["domains"][0]: e for e in by_kind["auth"]}
    assert auth["a.example"]["type"] == "oauth" and auth["b.example"]["type"] == "basic"
    assert by_kind["dockerAuth"][0]["registries"] == ["registry.example"]
    fly = next(f for f in cfg["stage1"] if f["name"] == "fly")
    assert fly["settings"] == {"tmpfs-size": "2m"} and fly["distribution"] == "rkt-stage1-fly"


BAD_CONFIGS = [
    ("stage1.d", "{not json", None, "invalid JSON"),
    ("stage1.d", stage1(name="fly", colour="blue"), "colour", "unknown field"),
    ("stage1.d", {"rktKind": "stage1", "rktVersion": "v2"}, "rktVersion", '"v1"'),
    ("stage1.d", {"rktKind": "paths", "rktVersion": "v1"}, "rktKind", 'expected "stage1"'),
    ("stage1.d", stage1(name=""), "name", "non-empty string"),
    ("stage1.d", stage1(settings={"fly": {"tmpfs-sise": "1m"}}), "settings.fly.tmpfs-sise", "unknown setting"),
    ("stage1.d", stage1(settings={"fly": {"tmpfs-size": 12}}), "settings.fly.tmpfs-size", "type str"),
    ("stage1.d", stage1(settings={"fly": "big"}), "settings.fly", "must be an object"),
    ("paths.d", {"rktKind": "paths", "rktVersion": "v1", "data": "relative/dir"}, "data", "absolute path"),
    ("auth.d", {"rktKind": "auth", "rktVersion": "v1", "domains": ["x"], "type": "digest",
                "credentials": {}}, "type", '"basic" or "oauth"'),
    ("auth.d", {"rktKind": "auth", "rktVersion": "v1", "domains": ["x"], "type": "basic",
                "credentials": {"user": "u"}}, "credentials.password", "non-empty string"),
    ("docker-auth.d", {"rktKind": "dockerAuth", "rktVersion": "v1", "registries": [],
                       "credentials": {"user": "u", "password": "p"}}, "registries", "non-empty list"),
]


@pytest.mark.parametrize(("sub", "doc", "field", "what"), BAD_CONFIGS,
                         ids=[f"{c[0]}-{c[2] or 'json'}" for c in BAD_CONFIGS])
def test_bad_config_rejected_naming_file_and_field(rkt: Run, dirs: dict[str, Path], sub: str, doc: Any,
                                                  field: str | None, what: str) -> None:
    path = put(dirs["local"], sub, "bad.json", doc)
    r = rkt("config")
    assert r.returncode == 254
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert str(path) in msg and what in msg, msg
    if field:
        assert f'field "{field}"' in msg, msg


def test_same_domain_twice_in_one_layer_is_an_error(rkt: Run, dirs: dict[str, Path]) -> None:
    doc = {"rktKind": "auth", "rktVersion": "v1", "domains": ["x.example"], "type": "oauth",
           "credentials": {"token": "t"}}
    put(dirs["local"], "auth.d", "one.json", doc)
    two = put(dirs["local"], "auth.d", "two.json", doc)
    r = rkt("config")
    assert r.returncode == 254 and str(two) in r.stderr and "one.json" in r.stderr, r.stderr


# --- the config at work ------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs pods: needs root")


@needs_root
def test_bad_flavor_setting_refuses_run_and_leaves_nothing(rkt: Run, dirs: dict[str, Path], image: Path) -> None:
    path = put(dirs["local"], "stage1.d", "fly.json", stage1(settings={"fly": {"tmpfs-size": ["1m"]}}))
    r = rkt("run", "--stage1-name=fly", str(image), "--exec=/bin/true")
    assert r.returncode == 254
    assert str(path) in r.stderr and 'field "settings.fly.tmpfs-size"' in r.stderr, r.stderr
    assert not list((dirs["data"] / "pods").glob("*/*")) if (dirs["data"] / "pods").exists() else True


@needs_root
def test_configured_default_flavor_and_its_settings_are_used(rkt: Run, dirs: dict[str, Path], image: Path,
                                                            tmp_path: Path) -> None:
    put(dirs["local"], "stage1.d", "fly.json", stage1(name="fly", settings={"fly": {"tmpfs-size": "1m"}}))
    uuid_file = tmp_path / "uuid"
    r = rkt("run", f"--uuid-file-save={uuid_file}", str(image), "--exec=/bin/df", "--", "-k", "/tmp")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].split()[1] == "1024", r.stdout  # the setting reached the flavor
    status = json.loads(rkt("status", "--format=json", uuid_file.read_text().strip()).stdout)
    assert status["stage1"] == "fly"
    assert rkt("gc", "--grace-period=0s").returncode == 0


@needs_root
def test_stage1_name_overrides_the_configured_default(rkt: Run, dirs: dict[str, Path], image: Path) -> None:
    put(dirs["local"], "stage1.d", "default.json", stage1(name="not-installed"))
    r = rkt("run", str(image), "--exec=/bin/true")
    assert r.returncode == 254 and 'no stage1 flavor named "not-installed"' in r.stderr and "fly" in r.stderr
    r = rkt("run", "--stage1-name=fly", str(image), "--exec=/bin/sh", "--", "-c", "exit 6")
    assert r.returncode == 6, r.stderr
    assert rkt("gc", "--grace-period=0s").returncode == 0


@needs_root
def test_a_version_pin_other_than_the_installed_one_refuses_the_run(rkt: Run, dirs: dict[str, Path],
                                                                     image: Path) -> None:
    pin = put(dirs["local"], "stage1.d", "pin.json", stage1(name="fly", version="9.9.9"))
    for args in ((), ("--stage1-name=fly",)):
        r = rkt("run", *args, str(image), "--exec=/bin/true")
        assert r.returncode == 254, r.stderr
        msg = r.stderr.strip()
        assert len(msg.splitlines()) == 1, msg
        assert str(pin) in msg and '"fly"' in msg and "9.9.9" in msg and "rkt-stage1-fly 0.1.0" in msg, msg
    assert not list((dirs["data"] / "pods").glob("*/*")) if (dirs["data"] / "pods").exists() else True
    put(dirs["local"], "stage1.d", "pin.json", stage1(name="fly", version="0.1.0"))
    r = rkt("run", str(image), "--exec=/bin/true")
    assert r.returncode == 0, r.stderr
    assert rkt("gc", "--grace-period=0s").returncode == 0


def test_paths_config_sets_the_data_dir_unless_dir_or_rkt_dir_does(dirs: dict[str, Path], image: Path,
                                                                   tmp_path: Path) -> None:
    configured = tmp_path / "configured"
    put(dirs["system"], "paths.d", "paths.json", {"rktKind": "paths", "rktVersion": "v1", "data": str(configured)})
    env = {k: v for k, v in os.environ.items() if k != "RKT_DIR"}

    def rkt(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RKT, f"--system-config={dirs['system']}", f"--local-config={dirs['local']}",
                               "--insecure-options=image", *args], capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, env={**env, **extra})

    r = rkt("fetch", str(image))
    assert r.returncode == 0, r.stderr
    assert (configured / "cas" / "blobs").is_dir()
    assert "example.com/flavors-cli" in rkt("image", "list").stdout
    flag = tmp_path / "flag"
    assert rkt(f"--dir={flag}", "image", "list", "--no-legend").stdout == ""
    from_env = tmp_path / "env"
    assert rkt("image", "list", "--no-legend", RKT_DIR=str(from_env)).stdout == ""
    cfg = json.loads(rkt("config").stdout)
    assert next(e for e in cfg["stage0"] if e["rktKind"] == "paths")["data"] == str(configured)
    put(dirs["local"], "paths.d", "bad.json", {"rktKind": "paths", "rktVersion": "v1", "data": "relative"})
    r = rkt("image", "list")
    assert r.returncode == 254 and 'bad.json: field "data"' in r.stderr and len(r.stderr.splitlines()) == 1
