"""An image config becomes the appc app docker2aci made of it; an index picks this host's image."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rkt.images.app_config import appc_manifest
from rkt.images.errors import PlatformMismatch
from rkt.images.layer_files import LayerFiles
from rkt.images.oci_spec import Descriptor, Index, host_platform, pick_platform
from rkt_sdk.appc import ImageManifest

PASSWD = b"root:x:0:0::/root:/bin/sh\nweb:x:33:44::/var/www:/bin/sh\n"


def files(tmp_path: Path) -> LayerFiles:
    """Two layers: the base has /bin -> usr/bin and /usr/bin/app; the top has /etc/passwd."""
    base, top = tmp_path / "base", tmp_path / "top"
    (base / "usr/bin").mkdir(parents=True)
    (base / "usr/bin/app").write_text("#!/bin/sh\n")
    os.symlink("usr/bin", base / "bin")
    (base / "etc").mkdir()
    (base / "etc/passwd").write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    (top / "etc").mkdir(parents=True)
    (top / "etc/passwd").write_bytes(PASSWD)
    return LayerFiles([top, base])


def test_config_maps_like_docker2aci(tmp_path: Path) -> None:
    lf = files(tmp_path)
    config = {"architecture": "arm64", "os": "linux", "config": {
        "Entrypoint": ["app"], "Cmd": ["--serve"], "Env": ["PATH=/bin", "A=b=c", "bad name=x"], "User": "web",
        "WorkingDir": "/srv", "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "x/tcp": {}}, "Volumes": {"/data/db": {}},
        "Labels": {"org.example": "1"}, "StopSignal": "SIGQUIT"}}
    doc = appc_manifest(config, "example.com/app", {"version": "1"}, {}, lf.read, lf.exists)
    m = ImageManifest.from_dict(doc)
    assert m.app is not None
    assert m.app.exec == ("/bin/app", "--serve")
    assert (m.app.user, m.app.group) == ("web", "44")
    assert m.app.env_dict() == {"PATH": "/bin", "A": "b=c"}
    assert m.app.working_directory == "/srv"
    assert [(p.name, p.port, p.protocol) for p in m.app.ports] == [("53-udp", 53, "udp"), ("80-tcp", 80, "tcp")]
    assert [(v.name, v.path) for v in m.app.mount_points] == [("volume-data-db", "/data/db")]
    assert m.label("arch") == "aarch64" and m.label("os") == "linux" and m.label("version") == "1"
    ann = {kv.name: kv.value for kv in m.annotations}
    assert ann["org.example"] == "1" and ann["appc.io/docker/stopsignal"] == "SIGQUIT"
    assert json.loads(ann["appc.io/docker/entrypoint"]) == ["app"]
    assert json.loads(ann["appc.io/docker/cmd"]) == ["--serve"]


@pytest.mark.parametrize(("user", "want"), [("", ("0", "0")), ("1000", ("1000", "0")), ("33", ("33", "44")),
                                            ("web:7", ("web", "7")), ("nobody", ("nobody", "0"))])
def test_user_and_group(tmp_path: Path, user: str, want: tuple[str, str]) -> None:
    lf = files(tmp_path)
    doc = appc_manifest({"config": {"Cmd": ["/x"], "User": user}}, "a", {}, {}, lf.read, lf.exists)
    assert (doc["app"]["user"], doc["app"]["group"]) == want


def test_layer_files_follow_symlinks_inside_and_respect_whiteouts(tmp_path: Path) -> None:
    lf = files(tmp_path)
    assert lf.exists("/bin/app") and lf.read("/etc/passwd") == PASSWD
    os.mknod(tmp_path / "top" / "usr", 0o20000, os.makedev(0, 0))  # a whiteout of /usr
    assert not lf.exists("/bin/app")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    os.symlink(str(outside), tmp_path / "top" / "evil")
    assert lf.read(str(outside / "secret")) is None and lf.read("/evil/secret") is None


def test_pick_platform() -> None:
    os_, arch = host_platform()
    index = Index((Descriptor("m", "sha256:" + "1" * 64, 1, "linux", "s390x"),
                   Descriptor("m", "sha256:" + "2" * 64, 1, os_, arch),
                   Descriptor("m", "sha256:" + "3" * 64, 1, "unknown", "unknown")))
    assert pick_platform(index, "x").digest == "sha256:" + "2" * 64
    with pytest.raises(PlatformMismatch, match="it offers: linux/ppc64le, windows/amd64"):
        pick_platform(Index((Descriptor("m", "d", 1, "windows", "amd64"),
                             Descriptor("m", "d", 1, "linux", "ppc64le"))), "x")
