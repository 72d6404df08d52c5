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
