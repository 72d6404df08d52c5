"""Loading flavors: broken ones reported by distribution, interface versions checked both ways.

The fixture flavors are imported from tests/fixtures (put on ``sys.path``) through real
entry-point records; nothing is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.stage1 import loader
from rkt.stage1.index import EntryPoint
from rkt.stage1.loader import BrokenFlavor, IncompatibleFlavor, load_entry
from rkt.stage1.report import report_flavor
from rkt_sdk import contract

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def entry(name: str, version: str = "0.1.0") -> EntryPoint:
    return EntryPoint(name, "rkt.stage1", f"rkt_stage1_{name}.plugin", f"rkt-stage1-{name}", version)


@pytest.fixture(autouse=True)
def fixture_path(monkeypatch: pytest.MonkeyPatch) -> None:
    for n in ("tiny", "broken", "future", "old"):
        monkeypatch.syspath_prepend(str(FIXTURES / f"rkt-stage1-{n}" / "src"))


def test_tiny_loads_and_describes_itself() -> None:
    f = load_entry(entry("tiny"))
    assert f.info.name == "tiny" and f.implements("rkt_stage1_config_schema")
    assert not f.implements("rkt_stage1_enter")


def test_import_error_names_the_distribution() -> None:
    with pytest.raises(BrokenFlavor) as e:
        load_entry(entry("broken"))
    msg = str(e.value)
    assert "rkt-stage1-broken 0.1.0" in msg and "ModuleNotFoundError" in msg and "\n" not in msg


def test_future_interface_refused_before_its_unknown_hook() -> None:
    with pytest.raises(IncompatibleFlavor) as e:
        load_entry(entry("future", "2.0.0"))
    msg = str(e.value)
    assert "rkt-stage1-future 2.0.0" in msg and "interface version 99" in msg and "upgrade rkt" in msg


def test_old_flavor_is_driven_with_the_arguments_it_names() -> None:
    f = load_entry(entry("old"))
    assert f.config_schema() == []
    check = f.hook.rkt_stage1_host_check(settings={"anything": 1})
    assert check.ok
    f.hook.rkt_stage1_gc(pod_path=Path("/nonexistent"), uuid="u", settings={})


def test_old_flavor_still_loads_when_the_contract_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (loader, contract):  # the rule lives in the contract, the message in the loader
        monkeypatch.setattr(module, "INTERFACE_VERSION", 2)
    assert load_entry(entry("old")).info.interface_version == 1


def test_too_old_flavor_asks_for_an_upgrade(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (loader, contract):
        monkeypatch.setattr(module, "INTERFACE_VERSION", 3)
        monkeypatch.setattr(module, "MIN_INTERFACE_VERSION", 2)
    with pytest.raises(IncompatibleFlavor) as e:
        load_entry(entry("old"))
    assert "upgrade rkt-stage1-old" in str(e.value) and "versions 2 to 3" in str(e.value)


def test_report_never_raises_for_a_broken_flavor() -> None:
    r = report_flavor(entry("broken"), ())
    assert r.broken and "rkt-stage1-broken" in r.error and not r.can_run
    ok = report_flavor(entry("tiny"), ())
    assert not ok.broken and ok.settings == {"banner": "", "retries": 0, "mode": "fast", "root": "/"}


def test_name_mismatch_is_broken() -> None:
    wrong = EntryPoint("other", "rkt.stage1", "rkt_stage1_tiny.plugin", "rkt-stage1-tiny", "0.1.0")
    with pytest.raises(BrokenFlavor, match="names it 'tiny', not 'other'"):
        load_entry(wrong)
