"""rkt_sdk.linux.ns: unshare, setns, pivot_root and process attributes, on the real kernel."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from rkt_sdk.linux import ns
from rkt_sdk.linux.mount import MS_PRIVATE, MS_REC, mount
from tests.unit.linux.conftest import in_child

pytestmark = pytest.mark.usefixtures("root_only")


def test_unshare_uts_changes_hostname_only_in_the_child() -> None:
    before = socket.gethostname()

    def child() -> str:
        ns.unshare(ns.CLONE_NEWUTS)
        ns.sethostname("inside-test")
        return socket.gethostname()

    assert in_child(child) == (0, "inside-test")
    assert socket.gethostname() == before


def test_enter_namespaces_joins_another_process_uts() -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ns.unshare(ns.CLONE_NEWUTS)
        ns.sethostname("joined-test")
        os.write(w, b"x")
        time.sleep(30)
        os._exit(0)
    try:
        os.read(r, 1)

        def child() -> str:
            ns.enter_namespaces(pid, ("uts",))
            return socket.gethostname()

        assert in_child(child) == (0, "joined-test")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(r)
        os.close(w)


def test_pivot_root_makes_a_directory_the_root(tmp_path: Path) -> None:
    newroot = tmp_path / "root"
    newroot.mkdir()

    def child() -> list[str]:
        ns.unshare(ns.CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        mount("tmpfs", str(newroot), "tmpfs", 0, "size=1m")
        (newroot / "marker").write_text("x")
        ns.pivot_root(str(newroot))
        return sorted(os.listdir("/"))

    assert in_child(child) == (0, ["marker"])
    assert os.listdir(newroot) == []  # the tmpfs lived in the child's namespace only


def test_setns_with_a_bad_descriptor_names_the_call() -> None:
    with pytest.raises(ns.NamespaceError, match="setns"):
        ns.setns(-1, ns.CLONE_NEWNET)


def test_dumpable_and_no_new_privs_show_in_proc() -> None:
    def child() -> list[str]:
        ns.set_dumpable(False)
        ns.set_no_new_privs()
        return [line.split()[1] for line in open("/proc/self/status") if line.startswith("NoNewPrivs")]

    assert in_child(child) == (0, ["1"])


def test_this_kernel_has_every_namespace() -> None:
    assert ns.missing_namespaces() == []
    assert ns.missing_namespaces(("nosuchns",)) == ["nosuchns"]
