"""Developer tasks. Run through `make` (which sets up the host and the virtualenv first):

    make test    -> nox -s lint types tests
    make bench   -> nox -s bench

Sessions use the project's virtualenv (`.venv`, built by scripts/setup-host) rather than
making their own: the tests need root, real packages and the editable distributions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "types", "tests"]

ROOT = Path(__file__).parent
PY = sys.executable
SOURCES = ["plugin_sdk/src", "core/src", *[str(p / "src") for p in sorted((ROOT / "flavors").iterdir())], "tests",
           "noxfile.py", "bench"]


def _existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over every distribution, and the import contracts between them."""
    session.run(PY, "-m", "ruff", "check", *_existing([*SOURCES, "examples", "docs"]))
    session.run(str(Path(PY).parent / "lint-imports"), "--config", str(ROOT / ".importlinter"))


@nox.session
def types(session: nox.Session) -> None:
    """mypy over the SDK, core and flavors; the example flavor with ``--strict``, as its author would."""
    session.run(PY, "-m", "mypy", *_existing(SOURCES[:-3]))
    example = ROOT / "examples" / "rkt-stage1-hello"
    session.run(PY, "-m", "mypy", "--strict", "--config-file", str(example / "pyproject.toml"), str(example / "src"),
                env={"MYPYPATH": str(ROOT / "plugin_sdk" / "src")})


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, functional (real pods, as root) and conformance tests."""
    args = session.posargs or ["tests"]
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    session.run(PY, "-m", "pytest", "-p", "no:cacheprovider", *args, env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against peers measured in the same run; writes bench/results/latest.json."""
    session.run(PY, "-m", "bench", *session.posargs, env={"PYTHONPATH": str(ROOT)})


@nox.session
def conformance(session: nox.Session) -> None:
    """The rkt_sdk conformance kit over every installed flavor this host can run."""
    flavors = session.posargs or [p.name for p in sorted((ROOT / "flavors").iterdir())]
    for name in flavors:
        session.run(PY, "-m", "pytest", "-p", "no:cacheprovider", "tests/conformance", f"--rkt-flavor={name}",
                    env={"PYTHONDONTWRITEBYTECODE": "1", **os.environ})
