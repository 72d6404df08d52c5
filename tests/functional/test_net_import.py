"""Import cost: a --net=host or --net=none pod never loads pyroute2; a contained one does."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid as uuidlib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

CODE = """
import sys
from pathlib import Path
import rkt.net as n
pod, data, flag, u = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
pod.mkdir(parents=True)
try:
    ns, atts = n.setup(pod_path=pod, uuid=u, spec=n.parse_net_flags([flag]), config_dirs=(), data_dir=data)
    n.write_dns_files(pod, n.dns_config_from_flags([], [], [], ""), (), "h", atts)
    n.format_networks(pod)
    loaded = "pyroute2" in sys.modules
finally:
    n.teardown(pod, data)
print("pyroute2" if loaded else "no-pyroute2", "pyroute2" in sys.modules)
"""


@pytest.mark.parametrize("flag, expected", [("host", "no-pyroute2 False"), ("none", "no-pyroute2 False"),
                                            ("default", "pyroute2 True")])
def test_pyroute2_only_for_contained_networks(tmp_path: Path, flag: str, expected: str) -> None:
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "pod"), str(tmp_path / "data"), flag,
                          str(uuidlib.uuid4())], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_importtime_of_the_package_has_no_pyroute2() -> None:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import rkt.net"], capture_output=True,
                         text=True, check=True)
    assert "rkt.net" in out.stderr and "pyroute2" not in out.stderr
