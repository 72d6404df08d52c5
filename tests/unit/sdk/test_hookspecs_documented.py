"""Every hookspec and every public rkt_sdk type carries a full docstring (the contract's only documentation)."""

from __future__ import annotations

import inspect
import re

import pytest

import rkt_sdk
import rkt_sdk.appc
import rkt_sdk.poddir
import rkt_sdk.types
from rkt_sdk import hookspecs
from rkt_sdk.record import fields, is_record

HOOKS = [(n, f) for n, f in vars(hookspecs).items() if n.startswith("rkt_") and inspect.isfunction(f)]
TYPES = [n for n in rkt_sdk.__all__ if n[:1].isupper() and inspect.isclass(getattr(rkt_sdk, n))]


def _classes(module: object) -> list[type]:
    return [c for n, c in vars(module).items()
            if inspect.isclass(c) and c.__module__ == getattr(module, "__name__", "") and not n.startswith("_")]


#: Types a flavor receives or returns: every field documented with ``:ivar:``.
FIELD_DOCUMENTED = [*_classes(rkt_sdk.types), *_classes(rkt_sdk.poddir)]
#: Manifest types mirror the appc spec field for field: a summary line is enough.
SUMMARY_ONLY = _classes(rkt_sdk.appc)
#: Known gaps, to be filled in their modules (reported, not hidden: these still run).
KNOWN_GAPS: set[str] = set()


def test_there_are_hooks_and_types() -> None:
    assert {"rkt_stage1_describe", "rkt_stage1_run", "rkt_stage1_gc"} <= {n for n, _ in HOOKS}
    assert {"FlavorInfo", "Pod", "RunOptions"} <= set(TYPES)


@pytest.mark.parametrize(("name", "hook"), HOOKS, ids=[n for n, _ in HOOKS])
def test_hookspec_documented(name: str, hook: object) -> None:
    doc = inspect.getdoc(hook) or ""
    summary = doc.split("\n", 1)[0]
    assert summary.endswith(".") and len(summary) > 20, f"{name}: needs a one-line summary"
    params = [p for p in inspect.signature(hook).parameters]  # type: ignore[arg-type]
    for p in params:
        assert re.search(rf":param {p}:", doc), f"{name}: parameter {p!r} undocumented"
    if inspect.signature(hook).return_annotation not in (None, "None"):  # type: ignore[arg-type]
        assert ":returns:" in doc, f"{name}: return value undocumented"
    assert re.search(r"\.\. versionadded:: \d+", doc), f"{name}: no versionadded"
    assert getattr(hook, "rkt_spec", None) is not None, f"{name}: not marked with hookspec"


@pytest.mark.parametrize("name", TYPES)
def test_public_type_documented(name: str) -> None:
    cls = getattr(rkt_sdk, name)
    doc = inspect.getdoc(cls) or ""
    assert doc and doc.split("\n", 1)[0].endswith("."), f"{name}: needs a summary line"
    if is_record(cls):
        for f in fields(cls):
            assert re.search(rf":ivar {f}:", doc), f"{name}.{f} undocumented"


@pytest.mark.parametrize("cls", [pytest.param(c, marks=pytest.mark.xfail(reason="fields lack :ivar: docs"))
                                 if c.__name__ in KNOWN_GAPS else c for c in FIELD_DOCUMENTED],
                         ids=lambda c: c.__name__)
def test_contract_type_fields_documented(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    assert doc.split("\n", 1)[0].endswith("."), f"{cls.__name__}: needs a summary line"
    if is_record(cls):
        missing = [f for f in fields(cls) if not re.search(rf":ivar {f}:", doc)]
        assert not missing, f"{cls.__name__}: fields without :ivar: {missing}"


@pytest.mark.parametrize("cls", SUMMARY_ONLY, ids=lambda c: c.__name__)
def test_manifest_type_has_summary(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    assert doc and doc.split("\n", 1)[0].strip(), f"{cls.__name__}: no docstring"


def test_contract_reference_is_current() -> None:
    import subprocess
    import sys
    from pathlib import Path

    gen = Path(__file__).resolve().parents[3] / "docs" / "gen_contract.py"
    r = subprocess.run([sys.executable, str(gen), "--check"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
