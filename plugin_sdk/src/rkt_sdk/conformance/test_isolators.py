"""The conformance tests of isolators: every claimed isolator is known, enforced, and seen from inside.

Collected with :mod:`rkt_sdk.conformance.test_contract` under ``--rkt-flavor=NAME``. For each
isolator name rkt hands over (:data:`rkt_sdk.isolators.KNOWN`) the flavor claims, a pod asks for
it and its app observes it (:mod:`rkt_sdk.conformance.isolator_checks`); a claimed memory limit
must also stop an allocation over it. A claimed name rkt does not know fails. An isolator not
claimed skips, saying so; one claimed that this host cannot check skips with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.conformance.isolator_checks import CHECKS, MEMORY_LIMIT, OVER_LIMIT_SCRIPT, CheckUnavailable
from rkt_sdk.conformance.kit import Kit, expect
from rkt_sdk.isolators import KNOWN


def test_claimed_isolators_are_known(rkt_capabilities: dict[str, Any]) -> None:
    unknown = sorted(set(rkt_capabilities["isolators"]) - KNOWN)
    assert not unknown, (f"the flavor claims isolators rkt never hands over: {unknown} "
                         f"(known: {', '.join(sorted(KNOWN))})")


def _image_with(kit: Kit, tmp_path: Path, isolators: tuple[dict[str, Any], ...]) -> Path:
    from rkt_sdk.conformance.aci import busybox_aci

    if not isolators:
        return kit.images["main"]
    return busybox_aci(tmp_path / "isolated.aci", "example.com/rkt-conformance-isolated", isolators=isolators)


@pytest.mark.rkt_capability("isolators")
@pytest.mark.parametrize("isolator", sorted(KNOWN))
def test_isolator_enforced(kit: Kit, tmp_path: Path, isolator: str) -> None:
    if isolator not in kit.caps["isolators"]:
        pytest.skip(f"the flavor does not claim {isolator}")
    check = CHECKS[isolator]
    if kit.caps.get("virtualized") and check.vm_skip:
        pytest.skip(check.vm_skip)
    try:
        flags = check.app_flags()
    except CheckUnavailable as e:
        pytest.skip(f"{isolator} cannot be checked on this host: {e}")
    image = _image_with(kit, tmp_path, check.image_isolators)
    if check.argv:
        r = kit.run(*kit.pod_flags, str(image), f"--exec={check.argv[0]}", *flags, "--", *check.argv[1:])
        assert r.returncode == check.expect_code, (
            f"{isolator} is claimed but {' '.join(check.argv)} exited {r.returncode}, not {check.expect_code}"
            f"\n{r.describe()}")
        return
    script = check.observation(bool(kit.caps.get("virtualized")))
    r = kit.run(*kit.pod_flags, str(image), "--exec=/bin/sh", *flags, "--", "-c", script + "\necho observed")
    assert r.returncode == 0 and "observed" in r.lines(), (
        f"{isolator} is claimed but the app did not see it in force\n{r.describe()}")


@pytest.mark.rkt_capability("isolators")
def test_memory_limit_stops_an_allocation_over_it(kit: Kit) -> None:
    if "resource/memory" not in kit.caps["isolators"]:
        pytest.skip("the flavor does not claim resource/memory")
    r = kit.run_app(OVER_LIMIT_SCRIPT, app=(f"--memory={MEMORY_LIMIT}",))
    assert r.returncode != 0, f"an app allocated 600M under --memory={MEMORY_LIMIT}\n{r.describe()}"
    expect(kit.run_app("dd if=/dev/zero of=/dev/null bs=8M count=1", app=(f"--memory={MEMORY_LIMIT}",)))
