"""The pytest plugin of the conformance kit (entry point ``pytest11: rkt_conformance``).

Options:

``--rkt-flavor=NAME``
    check that flavor: adds :mod:`rkt_sdk.conformance.test_contract` to the tests collected.
``--rkt-binary=PATH``
    the ``rkt`` command to drive (default: beside the running Python, else on ``PATH``).
``--rkt-timeout=SECONDS``
    longest any one ``rkt`` command may take (default 300: a VM flavor boots a kernel).

Fixtures (usable by a flavor's own tests too; all prefixed ``rkt_`` so that they do not
clash with a project's own): ``rkt_flavor`` (the name), ``rkt_flavor_report`` (its
``rkt flavors --format=json`` entry), ``rkt_capabilities``, ``rkt_runnable`` (skips with
the flavor's reason when this host cannot run it), ``rkt_driver`` (a
:class:`~rkt_sdk.conformance.driver.RktDriver` on a fresh data directory, cleaned up and
checked for leftovers afterwards), ``rkt_images`` (busybox ACIs) and ``rkt_net_flags`` (a
``--net`` flag the flavor supports without networks).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rkt_sdk.conformance.driver import RktDriver, RktNotFound, find_rkt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt_sdk.conformance.kit import Kit

#: the kit's test modules, added to the run by ``--rkt-flavor``
SUITES = (Path(__file__).with_name("test_contract.py"), Path(__file__).with_name("test_isolators.py"))
MARKER = "conformance-marker"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rkt", "rkt stage1 conformance kit")
    group.addoption("--rkt-flavor", default=None, metavar="NAME",
                    help="check the installed stage1 flavor NAME against the rkt_sdk contract")
    group.addoption("--rkt-binary", default=None, metavar="PATH", help="the rkt command to drive")
    group.addoption("--rkt-timeout", default=300.0, type=float, metavar="SECONDS",
                    help="longest any one rkt command may take (default 300)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rkt_capability(name): a conformance check of one claimed capability")
    if not config.getoption("rkt_flavor"):
        return
    given = {Path(a.split("::")[0]).resolve() for a in config.args}
    for suite in SUITES:
        if suite not in given and suite.parent not in given:
            config.args.append(str(suite))


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = config.getoption("rkt_flavor")
    if not name:
        return []
    try:
        binary = str(find_rkt(config.getoption("rkt_binary")))
    except RktNotFound as e:
        binary = str(e)
    return [f"rkt conformance kit: flavor {name!r}, rkt at {binary}"]


@pytest.fixture(scope="session")
def rkt_flavor(request: pytest.FixtureRequest) -> str:
    """The flavor under test (``--rkt-flavor``); tests skip when none was given."""
    name = request.config.getoption("rkt_flavor")
    if not name:
        pytest.skip("no --rkt-flavor given")
    return str(name)


@pytest.fixture(scope="session")
def rkt_binary(request: pytest.FixtureRequest) -> Path:
    try:
        return find_rkt(request.config.getoption("rkt_binary"))
    except RktNotFound as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def rkt_flavor_listing(rkt_binary: Path, request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """``rkt flavors --format=json``, run once."""
    with tempfile.TemporaryDirectory(prefix="rkt-conformance-") as d:
        r = RktDriver(rkt_binary, Path(d), float(request.config.getoption("rkt_timeout")))("flavors", "--format=json")
    if r.returncode != 0:
        pytest.fail(r.describe())
    data = json.loads(r.stdout)
    assert isinstance(data, list), "rkt flavors --format=json must print a list"
    return data


@pytest.fixture(scope="session")
def rkt_flavor_report(rkt_flavor: str, rkt_flavor_listing: list[dict[str, Any]]) -> dict[str, Any]:
    """The flavor's entry of ``rkt flavors --format=json``; fails if it is not installed."""
    for entry in rkt_flavor_listing:
        if entry.get("name") == rkt_flavor:
            return entry
    names = ", ".join(str(e.get("name")) for e in rkt_flavor_listing) or "none"
    pytest.fail(f"flavor {rkt_flavor!r} is not installed (rkt flavors lists: {names})")


@pytest.fixture(scope="session")
def rkt_capabilities(rkt_flavor_report: dict[str, Any]) -> dict[str, Any]:
    if rkt_flavor_report.get("broken"):
        pytest.fail(f"flavor is broken: {rkt_flavor_report.get('error')}")
    return dict(rkt_flavor_report["capabilities"])


@pytest.fixture(scope="session")
def rkt_runnable(rkt_flavor_report: dict[str, Any], rkt_capabilities: dict[str, Any]) -> None:
    """Skip with the flavor's own reason when its host check says it cannot run here."""
    if not rkt_flavor_report.get("canRun"):
        name, reason = rkt_flavor_report["name"], rkt_flavor_report.get("reason")
        pytest.skip(f"flavor {name!r} cannot run on this host: {reason}")


@pytest.fixture(scope="session")
def rkt_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Busybox ACIs: ``main`` (env ``FROM_IMAGE=image``, file ``/etc/conformance``) and ``second``."""
    from rkt_sdk.conformance.aci import BusyboxMissing, busybox_aci

    d = tmp_path_factory.mktemp("rkt-conformance-images")
    try:
        return {
            "main": busybox_aci(d / "main.aci", "example.com/rkt-conformance", env={"FROM_IMAGE": "image"},
                                files={"/etc/conformance": MARKER + "\n"}),
            "second": busybox_aci(d / "second.aci", "example.com/rkt-conformance-second"),
        }
    except BusyboxMissing as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def rkt_net_flags(rkt_capabilities: dict[str, Any]) -> list[str]:
    """A ``--net`` flag that needs no network set-up: host if supported, else none."""
    modes = rkt_capabilities.get("networkModes", [])
    if "host" in modes:
        return ["--net=host"]
    if "none" in modes:
        return ["--net=none"]
    return []


@pytest.fixture
def rkt_driver(rkt_runnable: None, rkt_binary: Path, request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[RktDriver]:
    """``rkt`` on a fresh data directory; afterwards every pod is stopped and gc'ed, and leftovers fail the test."""
    data = tmp_path_factory.mktemp("rkt-data")
    driver = RktDriver(rkt_binary, data, float(request.config.getoption("rkt_timeout")))
    yield driver
    problems = driver.cleanup()
    if problems:
        pytest.fail("after gc: " + "; ".join(problems))


@pytest.fixture
def kit(rkt_driver: RktDriver, rkt_images: dict[str, Path], rkt_flavor: str, rkt_capabilities: dict[str, Any],
        rkt_net_flags: list[str]) -> Kit:
    """A :class:`~rkt_sdk.conformance.kit.Kit`: rkt on a fresh data directory, the images, the flavor's claims."""
    from rkt_sdk.conformance.kit import Kit

    return Kit(rkt_driver, rkt_images, rkt_flavor, rkt_capabilities, rkt_net_flags)
