"""rkt_sdk.contract: the rules stage0 applies to a flavor, exercised as stage0 applies them."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from rkt_sdk import contract
from rkt_sdk.errors import FlavorError, RktError
from rkt_sdk.poddir import PodDir
from rkt_sdk.types import Capabilities, FlavorInfo


def test_a_pod_is_running_once_an_app_is_recorded_started(tmp_path: Path) -> None:
    pd = PodDir(tmp_path)
    assert not contract.is_running(tmp_path)
    pd.write_pid(1234)
    assert not contract.is_running(tmp_path)  # a pod process alone is not a running pod
    pd.record_app_started("web")
    assert contract.is_running(tmp_path)


def test_errors_from_a_hook() -> None:
    own = FlavorError("app 'web': /bin/x not found in the image")
    assert contract.hook_failure("fly", own) is own
    interrupt = KeyboardInterrupt()
    assert contract.hook_failure("fly", interrupt) is interrupt
    os_error = contract.hook_failure("tiny", OSError(errno.EIO, "the disk said no"))
    assert isinstance(os_error, RktError) and str(os_error) == "the tiny flavor failed: the disk said no"
    with_file = contract.hook_failure("tiny", FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"))
    assert str(with_file) == "the tiny flavor failed: /x: No such file or directory"
    bug = contract.hook_failure("tiny", KeyError("apps"))
    assert str(bug) == "the tiny flavor failed: KeyError: 'apps'"


@pytest.mark.parametrize(("net", "apps", "why"), [
    ("host", 1, None),
    (None, 1, None),
    ("host", 2, "the fly flavor runs one app per pod, and 2 were given"),
    ("contained", 1, "--net=default: the fly flavor does not support a contained network (it supports: host)"),
    ("none", 1, "--net=none: the fly flavor does not support none (it supports: host)"),
])
def test_capabilities_against_a_request(net: str | None, apps: int, why: str | None) -> None:
    assert contract.unsupported("fly", Capabilities(), net_mode=net, app_count=apps) == why


def test_description_rules() -> None:
    good = FlavorInfo("fly", "1", 1, "", Capabilities())
    assert contract.description_problem(good, "fly") is None
    assert "names it 'fly', not 'other'" in str(contract.description_problem(good, "other"))
    assert "not rkt_sdk.FlavorInfo" in str(contract.description_problem(object(), "fly"))
    assert contract.compatible(1) and not contract.compatible(True) and not contract.compatible(999)
    assert set(contract.REQUIRED_HOOKS) >= {"rkt_stage1_run", "rkt_stage1_gc"}
