"""A flavor pluggy validated once is called directly afterwards, exactly as pluggy would call it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from rkt.stage1.direct import CACHE_NAME
from rkt.stage1.index import EntryPoint
from rkt.stage1.loader import BrokenFlavor, load_entry

PLUGIN = '''
from rkt_sdk import INTERFACE_VERSION, hookimpl
from rkt_sdk.types import Capabilities, FlavorInfo, HostCheck

CALLS = []


@hookimpl
def rkt_stage1_describe():
    return FlavorInfo("{name}", "1.0", INTERFACE_VERSION, capabilities=Capabilities(multi_app=True))


@hookimpl
def rkt_stage1_host_check(settings):
    return HostCheck(True, "settings: " + ",".join(sorted(settings)))


@hookimpl
def rkt_stage1_run(pod, options):
    return (pod, options)


@hookimpl
def rkt_stage1_stop(pod, force, timeout):
    CALLS.append(("stop", pod, force, timeout))


@hookimpl
def rkt_stage1_gc(pod_path, uuid, settings):
    return None


@hookimpl(specname="rkt_pod_event")
def on_event(uuid, event):
    CALLS.append((event, uuid))
    return event.upper()
'''


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "src"
    d.mkdir()
    monkeypatch.syspath_prepend(str(d))
    return d


def _flavor(plugin_dir: Path, name: str, source: str = PLUGIN) -> EntryPoint:
    (plugin_dir / f"{name}_plugin.py").write_text(source.replace("{name}", name))
    sys.modules.pop(f"{name}_plugin", None)
    return EntryPoint(name, "rkt.stage1", f"{name}_plugin", f"rkt-stage1-{name}", "1.0")


def _calls(flavor: object) -> list[object]:
    hook = flavor.hook  # type: ignore[attr-defined]
    return [hook.rkt_stage1_describe(), hook.rkt_stage1_host_check(settings={"b": 1, "a": 2}),
            hook.rkt_stage1_run(pod="P", options="O"), hook.rkt_stage1_stop(pod="P", force=True, timeout=1.0),
            hook.rkt_stage1_status(pod="P"), hook.rkt_stage1_config_schema(),
            hook.rkt_pod_event(event="started", uuid="u", pod_path=Path("/p")),
            [flavor.implements(h) for h in ("rkt_stage1_enter", "rkt_stage1_run",  # type: ignore[attr-defined]
                                            "rkt_pod_event")]]


def test_second_load_calls_the_flavor_directly_with_pluggys_results(plugin_dir: Path, tmp_path: Path) -> None:
    ep = _flavor(plugin_dir, "alpha")
    first = load_entry(ep, cache_dir=tmp_path / "cache")
    assert first.pm is not None and (tmp_path / "cache" / CACHE_NAME).is_file()
    second = load_entry(ep, cache_dir=tmp_path / "cache")
    assert second.pm is None and second.info == first.info
    assert _calls(second) == _calls(first)
    assert _calls(second)[6] == ["STARTED"]
    assert sys.modules["alpha_plugin"].CALLS[-1] == ("started", "u")
    with pytest.raises(AttributeError):
        second.hook.rkt_no_such_hook  # noqa: B018


def test_editing_the_flavor_sends_it_through_pluggy_again(plugin_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ep = _flavor(plugin_dir, "beta")
    load_entry(ep, cache_dir=cache)
    assert load_entry(ep, cache_dir=cache).pm is None
    bad = PLUGIN.replace("def rkt_stage1_gc(pod_path, uuid, settings)", "def rkt_stage1_gc(pod_path, uuid, color)")
    _flavor(plugin_dir, "beta", bad)
    path = plugin_dir / "beta_plugin.py"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(BrokenFlavor, match="color"):
        load_entry(ep, cache_dir=cache)


def test_wrappers_and_cross_cutting_plugins_always_use_pluggy(plugin_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wrapped = PLUGIN + '''

@hookimpl(wrapper=True)
def rkt_stage1_status(pod):
    result = yield
    return result
'''
    ep = _flavor(plugin_dir, "gamma", wrapped)
    load_entry(ep, cache_dir=cache)
    assert load_entry(ep, cache_dir=cache).pm is not None
    ep2 = _flavor(plugin_dir, "delta")
    load_entry(ep2, cache_dir=cache)
    (plugin_dir / "audit.py").write_text(PLUGIN.split("@hookimpl(specname")[0].split("CALLS = []")[0]
                                         + "\n@hookimpl\ndef rkt_pod_event(event, uuid, pod_path):\n"
                                           "    return 'audited'\n")
    audit = EntryPoint("audit", "rkt.plugins", "audit", "rkt-audit", "1.0")
    f = load_entry(ep2, cache_dir=cache, with_plugins=[audit])
    assert f.pm is not None
    assert sorted(f.hook.rkt_pod_event(event="started", uuid="u", pod_path=Path("/p"))) == ["STARTED", "audited"]


def test_no_cache_dir_means_no_memory(plugin_dir: Path) -> None:
    ep = _flavor(plugin_dir, "epsilon")
    load_entry(ep)
    assert load_entry(ep).pm is not None
