"""Starting a pod from a stored image pays nothing for trust: no OpenPGP, HTTP or YAML module is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.aci import tiny_aci

SCRIPT = """
import sys
from pathlib import Path
from rkt.store import Store
from rkt.trust.policy import ImagePolicy
store = Store(Path(sys.argv[1]), durable=False)
policy = ImagePolicy((Path(sys.argv[2]), Path(sys.argv[3])))
policy.find_id(store, sys.argv[4])
heavy = sorted(m for m in sys.modules if m.startswith(("urllib3", "yaml", "rkt.trust.gpg", "rkt.trust.aci",
                                                          "rkt.trust.remote", "http.client", "ssl")))
print(",".join(heavy))
"""


def test_find_id_of_a_stored_image_imports_no_trust_machinery(tmp_path: Path) -> None:
    from rkt.store import Store

    store = Store(tmp_path / "store", durable=False)
    image_id = store.import_file(tiny_aci(tmp_path / "app.aci")).id
    store.close()
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "store"), str(tmp_path / "sys"),
                        str(tmp_path / "local"), image_id], capture_output=True, text=True, timeout=60, check=True)
    assert p.stdout.strip() == ""
