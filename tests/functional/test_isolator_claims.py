"""Stage0 refuses an isolator the flavor does not claim (fly claims none), and warns for an image's own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import FLY, Rkt
from tests.functional.test_pods_errors import assert_rkt_error

pytestmark = pytest.mark.root


@pytest.mark.parametrize(("flag", "named"), [
    ("--memory=64M", "--memory (resource/memory)"),
    ("--cpu=500m", "--cpu (resource/cpu)"),
    ("--cpu-shares=512", "--cpu-shares"),
    ("--oom-score-adj=100", "--oom-score-adj"),
    ("--caps-retain=CAP_CHOWN", "--caps-retain"),
    ("--caps-remove=CAP_NET_RAW", "--caps-remove"),
    ("--seccomp=mode=remove,uname", "--seccomp (os/linux/seccomp-remove-set)"),
])
def test_flag_isolator_the_flavor_does_not_claim_is_an_error(rkt: Rkt, busybox: str, flag: str, named: str) -> None:
    r = rkt("--insecure-options=image", "run", FLY, busybox, flag, "--exec=/bin/true")
    assert_rkt_error(rkt, r, named, "fly flavor does not enforce")


def test_prepared_pod_is_checked_at_run_prepared(rkt: Rkt, busybox: str) -> None:
    uuid = rkt.run_ok("--insecure-options=image", "prepare", FLY, busybox, "--memory=64M",
                      "--exec=/bin/true").out.strip()
    r = rkt("run-prepared", uuid)
    assert r.code == 254, str(r)
    assert "--memory (resource/memory)" in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_image_isolator_is_a_warning(rkt: Rkt, image: Any) -> None:
    img = image(app={"isolators": [{"name": "resource/memory", "value": {"limit": "64M"}}]})
    r = rkt("--insecure-options=image", "run", FLY, img, "--exec=/bin/echo", "--", "ran")
    assert r.code == 0, str(r)
    assert r.out == "ran\n"
    assert "warning" in r.err and "resource/memory" in r.err and "from its image" in r.err, r.err


def test_flag_overriding_an_image_isolator_is_an_error(rkt: Rkt, image: Any) -> None:
    img = image(app={"isolators": [{"name": "resource/memory", "value": {"limit": "64M"}}]})
    r = rkt("--insecure-options=image", "run", FLY, img, "--memory=32M", "--exec=/bin/true")
    assert_rkt_error(rkt, r, "--memory")
