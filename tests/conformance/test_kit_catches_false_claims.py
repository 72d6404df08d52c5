"""The conformance kit fails a flavor that claims isolators it does not enforce (fixture flavor ``liar``).

``liar`` claims ``resource/memory`` and ignores it, and claims the misspelt ``resource/memroy``;
otherwise it runs one app in a chroot (no volumes, no enter). The kit's isolator checks, run
against it in a child pytest, must fail exactly on the lies: the unknown name, the memory limit
not seen from inside, and the allocation over the limit that succeeded; the isolators it does not
claim skip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.dists import FIXTURES, installed

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="runs pods: needs root")]


@pytest.fixture(scope="module")
def liar(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("rkt_flavor"):
        pytest.skip("the kit runs in this session (--rkt-flavor given)")
    with installed(FIXTURES / "rkt-stage1-liar"):
        yield "liar"


def test_kit_fails_a_flavor_that_ignores_a_claimed_memory_limit(liar: str, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", f"--rkt-flavor={liar}",
                        "-k", "isolator or claimed", "-o", "addopts=", "--rootdir", str(tmp_path)],
                       capture_output=True, text=True, timeout=900, cwd=tmp_path)
    out = r.stdout
    assert r.returncode == 1, out[-4000:] + r.stderr[-2000:]
    failed = sorted(set(re.findall(r"^FAILED \S*::(\S+)", out, re.M)))
    assert failed == ["test_claimed_isolators_are_known", "test_isolator_enforced[resource/memory]",
                      "test_memory_limit_stops_an_allocation_over_it"], out[-4000:]
    assert "resource/memroy" in out
    assert re.search(r"\b8 skipped", out), out[-2000:]  # the isolators it does not claim
