"""Every distribution declares its license as the packaging standard asks (an SPDX string), so the
install prints no build-backend deprecation pages."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROJECTS = subprocess.run(["git", "-C", str(ROOT), "ls-files", "*pyproject.toml"], capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.parametrize("project", PROJECTS)
def test_license_is_an_spdx_string(project: str) -> None:
    data = tomllib.loads((ROOT / project).read_text())
    assert data["project"]["license"] == "Apache-2.0"
    assert not any("License ::" in c for c in data["project"].get("classifiers", []))
    (requires,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert requires == "setuptools>=77", "SPDX license strings need setuptools 77"


def test_setup_host_uses_a_supported_editable_mode() -> None:
    assert "editable_mode=compat" not in (ROOT / "scripts" / "setup-host").read_text()
