"""Cutting rkt's run command line into pod flags and each image's app flags and arguments."""

from __future__ import annotations

import argparse

import pytest

from rkt.apps.argv import split
from rkt.cli.run import parse


def _cut(*argv: str) -> tuple[list[str], list[tuple[str, list[str], list[str] | None]]]:
    from rkt.cli.run import app_parser, pod_parser

    cut = split(list(argv), pod_parser("run"), app_parser("run"))
    return cut.pod, cut.apps


def test_pod_flags_then_images_with_their_flags() -> None:
    pod, apps = _cut("--stage1-name", "fly", "--inherit-env", "a.aci", "--exec=/bin/sh", "b.aci", "--user", "1000")
    assert pod == ["--stage1-name", "fly", "--inherit-env"]
    assert apps == [("a.aci", ["--exec=/bin/sh"], None), ("b.aci", ["--user", "1000"], None)]


def test_args_run_until_triple_dash() -> None:
    _, apps = _cut("a.aci", "--", "-c", "echo --", "---", "b.aci", "--", "x")
    assert apps == [("a.aci", [], ["-c", "echo --"]), ("b.aci", [], ["x"])]


def test_empty_args_are_kept_apart_from_no_args() -> None:
    _, apps = _cut("a.aci", "--", "---")
    assert apps == [("a.aci", [], [])]


def test_args_before_any_image_are_refused() -> None:
    with pytest.raises(argparse.ArgumentError):
        _cut("--", "x")


def test_parse_gives_each_app_its_namespace() -> None:
    pod, apps = parse(["--set-env=A=1", "img", "--working-dir=/w", "--", "arg", "---"], "run")
    assert pod.set_env == ["A=1"]
    assert [(a.image, a.working_dir, a.args) for a in apps] == [("img", "/w", ["arg"])]
