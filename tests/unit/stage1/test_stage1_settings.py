"""Per-host flavor settings and the default flavor from ``stage1.d`` (library level, real fly flavor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rkt.config.stage1 import (
    BUILTIN_DEFAULT,
    ConfigError,
    configured_stage1,
    default_flavor,
    flavor_settings,
    validate_settings,
)
from rkt.stage1.loader import load_flavor
from rkt_sdk.types import ConfigField


def layers(tmp_path: Path, *docs: dict[str, Any] | None) -> tuple[Path, ...]:
    """One config dir per doc (lowest precedence first); ``None`` leaves that layer empty."""
    out = []
    for i, doc in enumerate(docs):
        d = tmp_path / f"layer{i}"
        (d / "stage1.d").mkdir(parents=True)
        if doc is not None:
            (d / "stage1.d" / "conf.json").write_text(json.dumps({"rktKind": "stage1", "rktVersion": "v1", **doc}))
        out.append(d)
    return tuple(out)


def test_no_config_means_the_builtin_default(tmp_path: Path) -> None:
    assert default_flavor((tmp_path / "nothing",)) == BUILTIN_DEFAULT


def test_later_layer_wins_and_name_resets_version(tmp_path: Path) -> None:
    dirs = layers(tmp_path, {"name": "coreos", "version": "1.0"}, {"name": "fly"})
    choice = configured_stage1(dirs)
    assert (choice.name, choice.version) == ("fly", None)
    assert choice.source == dirs[1] / "stage1.d" / "conf.json"


def test_version_alone_pins_the_earlier_name(tmp_path: Path) -> None:
    choice = configured_stage1(layers(tmp_path, {"name": "fly"}, {"version": "0.1.0"}))
    assert (choice.name, choice.version) == ("fly", "0.1.0")


def test_settings_merge_field_by_field_over_defaults(tmp_path: Path) -> None:
    fly = load_flavor("fly", None)
    assert flavor_settings(fly, layers(tmp_path / "empty", None)) == {"tmpfs-size": ""}
    dirs = layers(tmp_path / "set", {"settings": {"fly": {"tmpfs-size": "1m"}}}, {"settings": {"other": {"x": 1}}})
    assert flavor_settings(fly, dirs) == {"tmpfs-size": "1m"}


def test_unknown_setting_names_file_and_field(tmp_path: Path) -> None:
    dirs = layers(tmp_path, {"settings": {"fly": {"tmpfs": "1m"}}})
    with pytest.raises(ConfigError) as e:
        flavor_settings(load_flavor("fly", None), dirs)
    assert str(e.value).startswith(f'{dirs[0] / "stage1.d" / "conf.json"}: field "settings.fly.tmpfs": unknown')
    assert "tmpfs-size" in str(e.value)


SCHEMA = [ConfigField("n", "int", 0, "a number"), ConfigField("b", "bool", False, "a flag"),
          ConfigField("c", "choice", "a", "a choice", ("a", "b")), ConfigField("p", "path", "/", "a path"),
          ConfigField("l", "list", [], "a list"), ConfigField("f", "float", 1.0, "a ratio")]


@pytest.mark.parametrize(("raw", "problem"), [
    ({"n": "3"}, 'field "settings.x.n": must be of type int, got "3"'),
    ({"n": True}, 'field "settings.x.n": must be of type int, got true'),
    ({"b": 1}, 'field "settings.x.b": must be of type bool, got 1'),
    ({"c": "z"}, 'field "settings.x.c": must be one of a, b, got "z"'),
    ({"p": "rel"}, 'field "settings.x.p": must be an absolute path, got "rel"'),
    ({"l": "one"}, 'field "settings.x.l": must be of type list, got "one"'),
])
def test_malformed_values(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as e:
        validate_settings(SCHEMA, raw, 'f.json: field "settings.x"')
    assert str(e.value) == f"f.json: {problem}"


def test_valid_values_and_defaults() -> None:
    got = validate_settings(SCHEMA, {"n": 3, "f": 2, "c": "b", "l": ["x"]}, 'f.json: field "settings.x"')
    assert got == {"n": 3, "b": False, "c": "b", "p": "/", "l": ["x"], "f": 2}


@pytest.mark.parametrize(("doc", "field"), [
    ({"name": 3}, "name"), ({"version": ""}, "version"), ({"settings": []}, "settings"),
    ({"settings": {"fly": 1}}, "settings.fly"), ({"color": "red"}, "color"),
])
def test_malformed_stage1_documents(tmp_path: Path, doc: dict[str, Any], field: str) -> None:
    dirs = layers(tmp_path, doc)
    with pytest.raises(ConfigError) as e:
        default_flavor(dirs)
    assert f'conf.json: field "{field}"' in str(e.value)
