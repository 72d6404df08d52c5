"""The flag layer: one declaration per flag read the same by argparse and the fast paths."""

from __future__ import annotations

import importlib

import pytest

from rkt.cli.commands import COMMANDS
from rkt.cli.context import parse_global
from rkt.cli.enter import command_start
from rkt.cli.options import Flag, bool_flag, expand_bare, fast_parse
from rkt.cli.parser import command_parser, parse_command
from rkt.cli.run import parse as parse_run

FLAGS = (bool_flag("--full", "f"), Flag("--format", "f", choices=("", "json")), Flag("--net", "n", kind="list",
                                                                                       bare="default"))


@pytest.mark.parametrize("argv, full", [([], False), (["--full"], True), (["--full=true"], True),
                                        (["--full=false"], False), (["--full", "--full=0"], False),
                                        (["--full=T"], True)])
def test_booleans_bare_or_with_a_value(argv: list[str], full: bool) -> None:
    assert fast_parse(argv, FLAGS)["full"] is full  # type: ignore[index]


@pytest.mark.parametrize("argv", [["--full=maybe"], ["--fulll"], ["--format=xml"], ["--help"], ["word"]])
def test_fast_path_leaves_the_unusual_to_argparse(argv: list[str]) -> None:
    assert fast_parse(argv, FLAGS) is None


def test_bare_flags_never_take_the_next_word() -> None:
    assert fast_parse(["--net", "--format", "json"], FLAGS) == {"full": False, "format": "json", "net": ["default"]}
    assert fast_parse(["--net", "word"], FLAGS, "uuid") == {"full": False, "format": "", "net": ["default"],
                                                            "uuid": "word"}


@pytest.mark.parametrize("argv", [
    ["add", "UUID", "IMAGE"],
    ["add", "--name=x", "UUID", "--readonly-rootfs=false", "IMAGE", "--environment=A=b", "--environment", "C=d",
     "--stdin=tty", "--mount=volume=v,target=/t", "--user=1"],
    ["stop", "UUID", "--app", "a", "--timeout=2.5", "--force"],
    ["stop", "UUID", "--app=a"],
    ["rm", "--app=a", "UUID", "--timeout", "0"],
    ["list", "UUID", "--format=json", "--no-legend"],
    ["status", "UUID", "--app=a"],
    ["start", "UUID", "--app=a"],
    ["sandbox", "--stage1-name=coreos", "--net=host", "--net", "--hostname=h", "--annotation=k=v"],
])
def test_app_fast_path_gives_what_argparse_gives(argv: list[str]) -> None:
    """``rkt app`` parses its usual arguments without argparse: the values must be argparse's, converted."""
    from rkt.cli import app
    from rkt.cli.options import add_args, add_flags
    from rkt.cli.parser import make_parser

    _, positional, flags = app.SUBCOMMANDS[argv[0]]
    parser = make_parser(f"rkt app {argv[0]}", "")
    add_args(parser, positional)
    add_flags(parser, flags)
    fast = fast_parse(argv[1:], flags, tuple(a.name for a in positional))
    assert fast == vars(parser.parse_args(argv[1:]))


@pytest.mark.parametrize("argv", [["UUID"], ["UUID", "IMAGE", "MORE"], ["UUID", "", "IMAGE"]])
def test_fast_path_leaves_missing_or_extra_positionals_to_argparse(argv: list[str]) -> None:
    assert fast_parse(argv, (), ("uuid", "image")) is None


def test_fast_path_converts_as_argparse_does() -> None:
    flags = (Flag("--timeout", "t", default=10.0, convert=float), Flag("--ro", "r", kind="bool", bare="true",
                                                                          default=""))
    assert fast_parse([], flags) == {"timeout": 10.0, "ro": None}
    assert fast_parse(["--timeout=1", "--ro"], flags) == {"timeout": 1.0, "ro": True}
    assert fast_parse(["--timeout=soon"], flags) is None


def test_expand_bare_skips_values_of_flags_that_take_one() -> None:
    parser = command_parser("run-prepared", importlib.import_module("rkt.cli.run_prepared"))
    actions = parser._option_string_actions
    assert expand_bare(["--net", "--hostname", "--net", "u"], actions) == ["--net=default", "--hostname", "--net",
                                                                          "u"]
    assert expand_bare(["--interactive", "--", "--net"], actions) == ["--interactive=true", "--", "--net"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_boolean_flag_takes_true_and_false(name: str) -> None:
    module = importlib.import_module(COMMANDS[name][0])
    for flag in getattr(module, "FLAGS", ()):
        if flag.kind != "bool" or name in ("run", "prepare"):
            continue
        positional = ["x"] * sum(1 for a in getattr(module, "ARGS", ()) if a.nargs in (None, "+"))
        for text, value in (("true", True), ("false", False)):
            ns = parse_command(name, [f"{flag.name}={text}", *positional], module)
            assert getattr(ns, flag.dest) is value, (name, flag.name, text)


@pytest.mark.parametrize("command", ["run", "prepare"])
def test_run_and_prepare_booleans(command: str) -> None:
    pod, apps = parse_run(["--no-overlay=true", "--inherit-env", "--readonly-rootfs=true", "a.aci",
                           "--readonly-rootfs=false", "b.aci"], command)
    assert (pod.no_overlay, pod.inherit_env, pod.readonly_rootfs) == (True, True, True)
    assert [a.readonly_rootfs for a in apps] == [False, None]
    pod, apps = parse_run(["--no-overlay=false", "a.aci"], command)
    assert pod.no_overlay is False and [a.image for a in apps] == ["a.aci"]


def test_bare_net_is_the_default_network_and_leaves_the_image() -> None:
    pod, apps = parse_run(["--net", "a.aci"], "run")
    assert pod.net == ["default"] and [a.image for a in apps] == ["a.aci"]
    ns = parse_command("run-prepared", ["--net", "1234abcd"], importlib.import_module("rkt.cli.run_prepared"))
    assert (ns.net, ns.uuid) == (["default"], "1234abcd")


def test_enter_command_keeps_its_flags() -> None:
    argv = ["enter", "--app=a", "1234", "/bin/echo", "--dir", "/x"]
    from rkt.cli.main import _verbatim_from

    gopts, rest = parse_global(["--dir=/data", *argv], _verbatim_from)
    assert str(gopts.dir) == "/data" and rest == argv
    assert command_start(argv, 1) == 3
    assert command_start(["--app", "a", "u", "ls", "-l"], 0) == 3
    from rkt.cli.enter import parse

    ns = parse(["--app", "a", "1234", "/bin/echo", "--app", "b"])
    assert (ns.app, ns.uuid, ns.cmd) == ("a", "1234", ["/bin/echo", "--app", "b"])


def test_cat_manifest_pretty_print_is_a_boolean() -> None:
    module = importlib.import_module("rkt.cli.cat_manifest")
    assert parse_command("cat-manifest", ["--pretty-print", "1234"], module).uuid == "1234"
    assert parse_command("cat-manifest", ["--pretty-print=false", "1234"], module).pretty_print is False


def test_the_spelled_out_value_flags_are_the_declared_ones() -> None:
    """The fast paths scan global flags from names spelled out in globalflags; the declarations agree."""
    from rkt.cli.context import GLOBAL_FLAGS
    from rkt.cli.globalflags import VALUE_FLAGS

    assert sorted(VALUE_FLAGS) == sorted(f.name for f in GLOBAL_FLAGS if f.bare is None)


@pytest.mark.parametrize(("argv", "expected"), [
    (["--dir=/d", "app", "start", "U", "--app=a"], ({"dir": "/d"}, ["app", "start", "U", "--app=a"])),
    (["app", "--debug=false", "start", "--dir", "/d", "U"], ({"debug": False, "dir": "/d"}, ["app", "start", "U"])),
    (["--insecure-options=image", "list", "--", "--dir=/x"],
     ({"insecure_options": "image"}, ["list", "--", "--dir=/x"])),
])
def test_global_flags_are_scanned_anywhere_before_a_double_dash(argv: list[str], expected: object) -> None:
    from rkt.cli.globalflags import scan_global

    assert scan_global(argv, None) == expected
