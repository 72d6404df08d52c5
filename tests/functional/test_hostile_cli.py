"""Hostile values through every command: no traceback, no hang, nothing written outside the data dir.

Each command gets each hostile value as its positional arguments and as the value of each of its
declared flags; hostile files (a manifest nested 100,000 levels deep, ``/dev/zero`` as an image,
non-objects as manifests) go to the commands that read them. A call passes when it ends within
its timeout, prints no Python traceback, and leaves the working directory and home empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rkt.cli.commands import COMMANDS, declared
from tests.functional.conftest import FLY, RKT
from tests.support.aci import build_aci

pytestmark = pytest.mark.slow

CANARY = "/tmp/rkt-hostile-canary"
VALUES: tuple[str | bytes, ...] = (
    "", "-", "=", "--", "a\nb", " ", "../../../../etc/passwd", "/dev/zero", "/dev/urandom", "%s%n%x",
    f"$(touch {CANARY})", f"; touch {CANARY}", "ü\u202eevil", "A" * 65536, "0" * 64, "sha512-" + "0" * 128,
    "file:///dev/zero", "-1", "99999999999999999999", "1e999999", b"\xff\xfe\xfd",
)
#: flags whose value is a place the user asks rkt to write to (writing there is not an escape)
WRITES = {"--uuid-file-save"}
#: commands that wait or serve by design, and the values that would make them wait
SKIP = {("status", "--wait"), ("status", "--wait-ready"), ("stop", "--timeout")}
#: subcommands that run a pod in the foreground by design (as run does; its flags are tested through run)
FOREGROUND = {"app sandbox"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("hostile-cli")
    places = {n: root / n for n in ("data", "cwd", "home", "files")}
    for p in places.values():
        p.mkdir()
    files = places["files"]
    deep = "[" * 100_000 + "]" * 100_000
    (files / "deep.json").write_text(deep)
    (files / "deep-pod.json").write_text('{"acKind":"PodManifest","acVersion":"0.8.11","apps":' + deep + "}")
    (files / "list.json").write_text("[]")
    (files / "big-number.json").write_text("1" * 100_000)
    deep_aci = files / "deep.aci"
    with tarfile.open(deep_aci, "w") as tf:
        data = ('{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/deep","labels":' + deep
                + "}").encode()
        ti = tarfile.TarInfo("manifest")
        ti.size = len(data)
        import io

        tf.addfile(ti, io.BytesIO(data))
    good = build_aci(files / "good.aci", name="example.com/good")
    places["good"] = good
    yield places
    call(places, "gc", "--grace-period=0s", "--expire-prepared=0s", timeout=300)


def call(w: dict[str, Path], *args: str | bytes, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ["PATH"], "HOME": str(w["home"]), "LANG": "C.UTF-8"}
    argv: list[str | bytes] = [str(RKT), f"--dir={w['data']}", f"--local-config={w['files']}/etc",
                               f"--system-config={w['files']}/lib", *args]
    try:
        return subprocess.run(argv, cwd=w["cwd"], env=env, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"rkt {args!r} did not end within {timeout}s") from None


def check(w: dict[str, Path], *args: str | bytes) -> None:
    p = call(w, *args)
    err = p.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, f"rkt {args!r}:\n{err}"
    assert p.returncode in (0, 1, 2, 254) or p.returncode < 128, f"rkt {args!r} exited {p.returncode}: {err}"
    for place in ("cwd", "home"):
        left = list(w[place].iterdir())
        assert not left, f"rkt {args!r} wrote {left}"
    assert not os.path.exists(CANARY), f"rkt {args!r} ran a shell on its input"


def _positional_count(name: str) -> int:
    return sum(1 for a in declared(name).args if a.nargs in (None, "+"))


@pytest.mark.parametrize("name", [n for n in COMMANDS if n not in ("enter",)])
def test_hostile_positionals(world: dict[str, Path], name: str) -> None:
    words = name.split()
    subs = [s.name.split()[1] for s in declared(name).subcommands if s.name not in FOREGROUND] or [""]
    for sub in subs:
        head = [*words, sub] if sub else words
        for v in VALUES:
            n = max(1, _positional_count(name))
            extra = ("--exec=/bin/true",) if name in ("run", "prepare") else ()
            check(world, *head, *([v] * n), *extra)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_hostile_flag_values(world: dict[str, Path], name: str) -> None:
    top = declared(name)
    for d in (top, *(s for s in top.subcommands if s.name not in FOREGROUND)):
        positionals = ["00000000"] * sum(1 for a in d.args if a.nargs in (None, "+"))
        for f in d.flags:
            if (name, f.name) in SKIP or f.name in WRITES:
                continue
            if name in ("run", "prepare"):  # on fly, a pod that does run needs no network
                positionals = [str(world["good"]), "--exec=/bin/true"]
                if not f.name.startswith("--stage1"):
                    positionals.insert(0, FLY)
            for v in VALUES[:12] + VALUES[-3:]:
                flag = f.name.encode() + b"=" + v if isinstance(v, bytes) else f"{f.name}={v}"
                check(world, *d.name.split(), flag, *positionals)


def test_enter_with_hostile_values(world: dict[str, Path]) -> None:
    for v in VALUES:
        check(world, "enter", v)
        check(world, "enter", v, "/bin/true", v)
        check(world, "enter", f"--app={v!s}", "00000000")


@pytest.mark.parametrize("file", ["deep.json", "deep-pod.json", "list.json", "big-number.json", "deep.aci"])
def test_hostile_manifests(world: dict[str, Path], file: str) -> None:
    path = str(world["files"] / file)
    for args in (("run", FLY, f"--pod-manifest={path}"), ("prepare", f"--pod-manifest={path}"),
                 ("--insecure-options=image", "fetch", path), ("--insecure-options=image", "run", FLY, path),
                 ("image", "cat-manifest", path)):
        p = call(world, *args)
        err = p.stderr.decode()
        assert p.returncode == 254 and "Traceback" not in err, f"{args}: {err}"
        assert len([line for line in err.splitlines() if not line.startswith("warning:")]) == 1, f"{args}: {err}"


def test_fetch_dev_zero_ends_with_one_line(world: dict[str, Path]) -> None:
    p = call(world, "--insecure-options=image", "fetch", "/dev/zero", timeout=30)
    err = [line for line in p.stderr.decode().splitlines() if not line.startswith("warning:")]
    assert p.returncode == 254 and len(err) == 1 and "not an image" in err[0], p


def test_uuid_arguments_of_a_real_pod_neighbourhood(world: dict[str, Path]) -> None:
    uuid = call(world, "--insecure-options=image", "prepare", FLY, "--quiet", str(world["good"]),
                "--exec=/bin/true").stdout.decode().strip()
    assert len(uuid) == 36, uuid
    variants = (uuid + "x", uuid[:8] + "/../" + uuid[8:], "../" + uuid, "/" + uuid, uuid + "/..", "*", uuid[:8] + "*")
    for name in ("status", "cat-manifest", "enter", "stop", "rm", "run-prepared"):
        for v in variants:
            check(world, name, v)
    assert json.loads(call(world, "list", "--format=json").stdout)[0]["state"] == "prepared"
    for name in ("status", "cat-manifest", "enter", "stop", "rm", "run-prepared"):
        check(world, name, uuid[:1])
