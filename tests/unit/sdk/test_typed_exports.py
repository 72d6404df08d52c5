"""``from rkt_sdk import hookimpl`` (and the other lazy names) keep their types for ``mypy --strict``."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SNIPPET = '''
from rkt_sdk import Capabilities, FlavorInfo, PodDir, hookimpl

@hookimpl
def rkt_stage1_describe() -> FlavorInfo:
    return FlavorInfo(name="x", version="1", interface_version=1, capabilities=Capabilities())

@hookimpl(tryfirst=True)
def rkt_stage1_config_schema() -> list[str]:
    return []

reveal_type(rkt_stage1_describe)
reveal_type(PodDir)
'''


@pytest.mark.slow
def test_hookimpl_keeps_the_hooks_type_under_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mypy import api

    (tmp_path / "flavor.py").write_text(SNIPPET)
    monkeypatch.setenv("MYPYPATH", str(ROOT / "plugin_sdk" / "src"))
    out, _err, code = api.run(["--strict", "--no-incremental", "--config-file", "/dev/null",
                              "--cache-dir", str(tmp_path / "cache"), str(tmp_path / "flavor.py")])
    assert "untyped-decorator" not in out, out
    assert 'Revealed type is "def () -> rkt_sdk.types.FlavorInfo"' in out, out
    assert 'rkt_sdk.poddir.PodDir' in out, out
    assert code == 0, out


def test_lazy_names_still_resolve_at_run_time() -> None:
    import rkt_sdk
    from rkt_sdk.markers import hookimpl

    assert rkt_sdk.hookimpl is hookimpl
    for name in rkt_sdk.__all__:
        assert getattr(rkt_sdk, name) is not None
