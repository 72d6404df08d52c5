"""--net parsing and network selection (no root needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rkt.net import NetRequest, NetSpec, NetworkError, parse_net_flags
from rkt.net.conf import select
from rkt_sdk.errors import RktError


def test_no_flag_and_empty_value_mean_default() -> None:
    assert parse_net_flags([]) == NetSpec("contained", (NetRequest("default"),))
    assert parse_net_flags([""]) == NetSpec("contained", (NetRequest("default"),))


def test_host_and_none() -> None:
    assert parse_net_flags(["host"]).mode == "host"
    assert parse_net_flags(["none"]) == NetSpec("none")


def test_names_args_and_repetition() -> None:
    spec = parse_net_flags(["net1:IP=10.1.2.3;X=y,default", "net2:IP=10.9.9.9"])
    assert spec.mode == "contained"
    assert spec.requests == (NetRequest("net1", (("IP", "10.1.2.3"), ("X", "y"))), NetRequest("default"),
                             NetRequest("net2", (("IP", "10.9.9.9"),)))
    assert spec.requests[0].args_text == "IP=10.1.2.3;X=y"


@pytest.mark.parametrize("values, fragment", [
    (["default,default"], "more than once"),
    (["net1", "net1:IP=1.2.3.4"], "more than once"),
    (["host,default"], "cannot be combined"),
    (["none", "net1"], "cannot be combined"),
    (["net1:IP"], "not KEY=VALUE"),
    (["net1:=3"], "not KEY=VALUE"),
    (["net1:"], "empty argument list"),
    (["bad name"], "invalid network name"),
    (["host:X=1"], "takes no arguments"),
    (["net1:A=1;A=2"], "given twice"),
])
def test_bad_syntax_is_a_named_error(values: list[str], fragment: str) -> None:
    with pytest.raises(NetworkError, match=fragment) as exc:
        parse_net_flags(values)
    assert isinstance(exc.value, RktError) and exc.value.exit_code == 254
    assert "\n" not in str(exc.value)


def _conf(d: Path, file: str, body: dict[str, object]) -> None:
    (d / "net.d").mkdir(parents=True, exist_ok=True)
    (d / "net.d" / file).write_text(json.dumps(body))


def test_default_restricted_added_when_default_missing(tmp_path: Path) -> None:
    _conf(tmp_path, "10-a.conf", {"name": "a", "type": "bridge",
                                  "ipam": {"type": "host-local", "subnet": "10.5.0.0/24"}})
    names = [c.name for c, _ in select(parse_net_flags(["a"]), (tmp_path,))]
    assert names == ["a", "default-restricted"]
    names = [c.name for c, _ in select(parse_net_flags(["default,a"]), (tmp_path,))]
    assert names == ["a", "default"]  # file-name order, as rkt: 10-a.conf before 99-default.conf


def test_unknown_network_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="'nosuch' not found"):
        select(parse_net_flags(["nosuch"]), (tmp_path,))


def test_all_and_overrides_by_precedence(tmp_path: Path) -> None:
    system, local, user = tmp_path / "sys", tmp_path / "local", tmp_path / "user"
    _conf(system, "20-b.conf", {"name": "b", "type": "ptp", "ipam": {"type": "host-local", "subnet": "10.6.0.0/24"}})
    _conf(local, "20-b.conf", {"name": "b", "type": "ptp", "ipam": {"type": "host-local", "subnet": "10.7.0.0/24"}})
    _conf(user, "50-default.conf", {"name": "default", "type": "ptp",
                                   "ipam": {"type": "host-local", "subnet": "10.8.0.0/24"}})
    chosen = select(parse_net_flags(["all", "b:IP=10.7.0.9"]), (system, local, user))
    by_name = {c.name: (c, r) for c, r in chosen}
    assert set(by_name) == {"b", "default"}
    assert by_name["b"][0].raw["ipam"]["subnet"] == "10.7.0.0/24"
    assert by_name["b"][1].args == (("IP", "10.7.0.9"),)
    assert by_name["default"][0].raw["ipam"]["subnet"] == "10.8.0.0/24"
    assert by_name["default"][0].source.endswith("50-default.conf")


def test_broken_conf_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "net.d").mkdir()
    (tmp_path / "net.d" / "10-x.conf").write_text("{not json")
    with pytest.raises(NetworkError, match=r"10-x\.conf"):
        select(parse_net_flags([]), (tmp_path,))


def test_native_rule(tmp_path: Path) -> None:
    _conf(tmp_path, "10-n.conf", {"name": "n", "type": "bridge",
                                  "ipam": {"type": "host-local", "subnet": "10.1.0.0/24"}})
    _conf(tmp_path, "11-e.conf", {"name": "e", "type": "bridge", "rktExternal": True,
                                  "ipam": {"type": "host-local", "subnet": "10.2.0.0/24"}})
    _conf(tmp_path, "12-d.conf", {"name": "d", "type": "bridge", "ipam": {"type": "dhcp"}})
    _conf(tmp_path, "13-o.conf", {"name": "o", "type": "loopback"})
    chosen = {c.name: c.native for c, _ in select(parse_net_flags(["n,e,d,o"]), (tmp_path,))}
    assert chosen == {"n": True, "e": False, "d": False, "o": False, "default-restricted": True}
