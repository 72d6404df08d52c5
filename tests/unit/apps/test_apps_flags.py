"""Values of rkt's pod and app flags: each bad value is a FlagError naming the flag and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt.apps import flags as F
from rkt_sdk.appc import KV, Mount


def test_env_pair_and_env_file(tmp_path: Path) -> None:
    assert F.env_pair("set-env", "A=b=c") == KV("A", "b=c")
    f = tmp_path / "env"
    f.write_text("# comment\n; comment\n\nA=1\nB= spaced \n")
    assert F.env_file(str(f)) == (KV("A", "1"), KV("B", " spaced "))


@pytest.mark.parametrize("call, text", [
    (lambda: F.env_pair("set-env", "1A=x"), "--set-env=1A=x"),
    (lambda: F.env_pair("set-env", "NOEQ"), "--set-env=NOEQ"),
    (lambda: F.env_file("/nonexistent/env"), "/nonexistent/env"),
    (lambda: F.volume("v,kind=weird"), "--volume=v,kind=weird"),
    (lambda: F.volume("v,kind=empty,uid=x"), "--volume=v,kind=empty,uid=x"),
    (lambda: F.volume("v,kind=host,source=/x,bogus=1"), "bogus"),
    (lambda: F.mount("volume=v"), "--mount=volume=v"),
    (lambda: F.mount("volume=v,target=rel"), "--mount=volume=v,target=rel"),
    (lambda: F.port("http"), "--port=http"),
    (lambda: F.port("http:70000"), "--port=http:70000"),
    (lambda: F.memory("lots"), "--memory=lots"),
    (lambda: F.cpu("fast"), "--cpu=fast"),
    (lambda: F.oom_score_adj("2000"), "--oom-score-adj=2000"),
    (lambda: F.seccomp("mode=maybe,read"), "--seccomp=mode=maybe,read"),
    (lambda: F.caps("caps-retain", "NET_ADMIN"), "NET_ADMIN"),
])
def test_bad_values_name_the_flag(call, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(F.FlagError) as e:
        call()
    assert text in str(e.value) and "\n" not in str(e.value)


def test_volumes_and_mounts() -> None:
    v = F.volume("data,kind=host,source=/srv,readOnly=true")
    assert (v.name, v.kind, v.source, v.read_only) == ("data", "host", "/srv", True)
    e = F.volume("scratch,kind=empty,mode=0700,uid=5,gid=6")
    assert (e.kind, e.mode, e.uid, e.gid) == ("empty", "0700", 5, 6)
    assert F.mount("volume=data,target=/data") == Mount("data", "/data")
