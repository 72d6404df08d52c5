"""The ``paths``, ``auth`` and ``dockerAuth`` config kinds: layering and errors naming file and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rkt.config.auth import load_auth
from rkt.config.errors import ConfigError
from rkt.config.paths import DEFAULT_DATA, configured_data_dir, load_paths


def write(base: Path, sub: str, name: str, doc: Any) -> Path:
    (base / sub).mkdir(parents=True, exist_ok=True)
    p = base / sub / name
    p.write_text(json.dumps(doc))
    return p


def paths_doc(data: str) -> dict[str, str]:
    return {"rktKind": "paths", "rktVersion": "v1", "data": data}


def test_paths_default_and_layering(tmp_path: Path) -> None:
    system, local = tmp_path / "system", tmp_path / "local"
    assert load_paths((system, local)).data == DEFAULT_DATA
    assert configured_data_dir((system, local)) is None
    write(system, "paths.d", "a.json", paths_doc("/srv/a"))
    write(local, "paths.d", "b.json", paths_doc("/srv/b"))
    assert load_paths((system, local)).data == Path("/srv/b")
    assert load_paths((system,)).data == Path("/srv/a")


def test_paths_twice_in_one_layer(tmp_path: Path) -> None:
    write(tmp_path, "paths.d", "a.json", paths_doc("/srv/a"))
    b = write(tmp_path, "paths.d", "b.json", paths_doc("/srv/b"))
    with pytest.raises(ConfigError, match="already set in") as e:
        load_paths((tmp_path,))
    assert str(e.value).startswith(f'{b}: field "data"')


def test_paths_unknown_field(tmp_path: Path) -> None:
    p = write(tmp_path, "paths.d", "a.json", {**paths_doc("/x"), "stage2-images": "/y"})
    with pytest.raises(ConfigError) as e:
        load_paths((tmp_path,))
    assert str(e.value).startswith(f'{p}: field "stage2-images": unknown field for kind "paths"')


def test_paths_stage1_images_is_accepted_with_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path, "paths.d", "b.json", {**paths_doc("/x"), "stage1-images": "/y"})
    assert load_paths((tmp_path,)).data == Path("/x")
    load_paths((tmp_path,))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(p) in err and "stage1-images" in err


def auth_doc(domains: list[str], type_: str, creds: dict[str, str]) -> dict[str, Any]:
    return {"rktKind": "auth", "rktVersion": "v1", "domains": domains, "type": type_, "credentials": creds}


def test_auth_overrides_per_domain(tmp_path: Path) -> None:
    system, local = tmp_path / "system", tmp_path / "local"
    write(system, "auth.d", "all.json", auth_doc(["a.example", "b.example"], "oauth", {"token": "common"}))
    write(local, "auth.d", "b.json", auth_doc(["b.example"], "basic", {"user": "foo", "password": "bar"}))
    cfg = load_auth((system, local))
    a, b = cfg.for_host("a.example"), cfg.for_host("b.example")
    assert a is not None and a.header() == "Bearer common"
    assert b is not None and b.header() == "Basic Zm9vOmJhcg=="
    assert cfg.for_host("c.example") is None


def test_docker_auth_in_both_directories(tmp_path: Path) -> None:
    doc = {"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["r.example"],
           "credentials": {"user": "u", "password": "p"}}
    write(tmp_path / "system", "auth.d", "d.json", doc)
    write(tmp_path / "local", "docker-auth.d", "d.json", {**doc, "credentials": {"user": "v", "password": "q"}})
    creds = load_auth((tmp_path / "system", tmp_path / "local")).for_registry("r.example")
    assert creds is not None and creds.values["user"] == "v"


def test_docker_auth_kind_not_allowed_in_its_own_dir_as_auth(tmp_path: Path) -> None:
    p = write(tmp_path, "docker-auth.d", "x.json", auth_doc(["a"], "oauth", {"token": "t"}))
    with pytest.raises(ConfigError) as e:
        load_auth((tmp_path,))
    assert str(e.value) == f'{p}: field "rktKind": expected "dockerAuth", got "auth"'


@pytest.mark.parametrize(("creds", "field"), [({"token": ""}, "credentials.token"),
                                              ({"token": "t", "user": "u"}, "credentials.user")])
def test_auth_bad_credentials(tmp_path: Path, creds: dict[str, str], field: str) -> None:
    p = write(tmp_path, "auth.d", "x.json", auth_doc(["a"], "oauth", creds))
    with pytest.raises(ConfigError) as e:
        load_auth((tmp_path,))
    assert str(e.value).startswith(f'{p}: field "{field}"')


def test_non_json_files_and_directories_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "auth.d" / "sub.json").mkdir(parents=True)
    (tmp_path / "auth.d" / "README").write_text("not config")
    assert load_auth((tmp_path,)).hosts == {}
