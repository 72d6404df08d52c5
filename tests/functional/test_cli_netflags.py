"""The pod's network flags mean the same to ``rkt run`` and ``rkt run-prepared`` (one parser each)."""

from __future__ import annotations

import pytest

from tests.functional.conftest import FLY, Rkt

HOSTS = "cat /etc/hosts /etc/resolv.conf"


def _hosts_of(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("1.2.3.4", "5.6.7.8", "nameserver"))]


def test_comma_lists_mean_the_same_in_run_and_run_prepared(rkt: Rkt, busybox: str) -> None:
    flags = ("--hosts-entry=1.2.3.4=a,5.6.7.8=b", "--dns=8.8.8.8,1.1.1.1")
    ran = rkt.run_ok("run", FLY, "--insecure-options=image", *flags, busybox, "--exec=/bin/sh", "--", "-c", HOSTS)
    uuid = rkt.run_ok("prepare", FLY, "--insecure-options=image", "--quiet", busybox, "--exec=/bin/sh",
                      "--", "-c", HOSTS).out.strip()
    prepared = rkt.run_ok("run-prepared", *flags, uuid)
    expected = ["1.2.3.4\ta", "5.6.7.8\tb", "nameserver 8.8.8.8", "nameserver 1.1.1.1"]
    assert _hosts_of(ran.out) == expected, str(ran)
    assert _hosts_of(prepared.out) == expected, str(prepared)


@pytest.mark.parametrize("flag", ["--hosts-entry=notanip=x", "--dns=notanip", "--dns=8.8.8.8,notanip",
                                  "--hosts-entry=1.2.3.4=a,notanip=b"])
def test_bad_address_is_refused_by_run_and_run_prepared(rkt: Rkt, busybox: str, flag: str) -> None:
    run = rkt("run", FLY, "--insecure-options=image", flag, busybox, "--exec=/bin/true")
    uuid = rkt.run_ok("prepare", FLY, "--insecure-options=image", "--quiet", busybox, "--exec=/bin/true").out.strip()
    prepared = rkt("run-prepared", flag, uuid)
    for r in (run, prepared):
        assert r.code == 254, str(r)
        assert len(r.err.splitlines()) == 1 and "notanip" in r.err, str(r)
        assert "Traceback" not in r.err
    assert rkt("status", uuid).out.startswith("state=prepared"), "the refused run-prepared left the pod as it was"
