"""Import cost: a --net=host or --net=none pod never loads the netlink client; a contained one does, and no
third-party netlink library is ever loaded."""

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
    loaded = "rkt.net.rtnl" in sys.modules
finally:
    n.teardown(pod, data)
print("rtnl" if loaded else "no-rtnl", any(m.startswith("pyroute2") for m in sys.modules))
"""


@pytest.mark.parametrize("flag, expected", [("host", "no-rtnl False"), ("none", "no-rtnl False"),
                                            ("default", "rtnl False")])
def test_netlink_only_for_contained_networks(tmp_path: Path, flag: str, expected: str) -> None:
    out = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "pod"), str(tmp_path / "data"), flag,
                          str(uuidlib.uuid4())], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_importtime_of_the_package_has_no_netlink_code() -> None:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import rkt.net"], capture_output=True,
                         text=True, check=True)
    assert "rkt.net" in out.stderr and "rkt.net.rtnl" not in out.stderr and "pyroute2" not in out.stderr
