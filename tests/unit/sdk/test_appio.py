"""rkt_sdk.appio: the sandbox marker, I/O modes, CRI log entries; rkt_sdk.attach: frames and detach keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from rkt_sdk.appc import KV, App, ImageRef, PodManifest, RuntimeApp
from rkt_sdk.appio import (
    MUTABLE_ANNOTATION,
    STDIO_ANNOTATIONS,
    CriLog,
    IOModeError,
    check_modes,
    cri_entries,
    io_modes,
    rfc3339nano,
)
from rkt_sdk.attach import EXIT, STDOUT, FrameReader, _detach, frame, parse_detach_keys
from rkt_sdk.types import Pod

T = 1_795_964_063_457_544_136  # 2026-11-29T14:54:23.457544136Z


def test_rfc3339nano_as_go_writes_it() -> None:
    assert rfc3339nano(T) == "2026-11-29T14:54:23.457544136Z"
    assert rfc3339nano(1_000_000_000 * 60 + 500_000_000) == "1970-01-01T00:01:00.5Z"
    assert rfc3339nano(0) == "1970-01-01T00:00:00Z"


def test_cri_entries_full_partial_and_long_lines() -> None:
    ts = "2026-11-29T14:54:23.457544136Z"
    assert cri_entries("stdout", b"one\ntwo\n", T) == f"{ts} stdout F one\n{ts} stdout F two\n".encode()
    assert cri_entries("stderr", b"a\npart", T) == f"{ts} stderr F a\n{ts} stderr P part\n".encode()
    assert cri_entries("stdout", b"\n", T) == f"{ts} stdout F \n".encode()
    assert cri_entries("stdout", b"abcdefg\n", T, max_line=3) == (
        f"{ts} stdout P abc\n{ts} stdout P def\n{ts} stdout F g\n".encode())
    assert cri_entries("stdout", b"abcdef", T, max_line=3) == f"{ts} stdout P abc\n{ts} stdout P def\n".encode()
    assert cri_entries("stdout", b"", T) == b""


def test_cri_log_appends_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "app.log"
    log = CriLog(path)
    log.write("stdout", b"first\n")
    path.rename(tmp_path / "rotated")
    log.write("stdout", b"second\n")  # still into the moved file
    log.reopen()
    log.write("stderr", b"third\n")
    log.close()
    assert (tmp_path / "rotated").read_text().count("\n") == 2
    assert path.read_text().endswith(" stderr F third\n")


def test_modes_checked_and_read_from_annotations() -> None:
    assert check_modes("null", "log", "log") == ("null", "log", "log")
    assert check_modes("tty", "tty", "log") == ("tty", "tty", "tty")
    with pytest.raises(IOModeError, match="--stdin=log"):
        check_modes("log", "log", "log")
    with pytest.raises(IOModeError, match="go together"):
        check_modes("tty", "log", "log")
    ref = ImageRef("example.com/x", "sha512-0")
    plain = RuntimeApp("a", ref, App(exec=("/bin/true",)))
    assert io_modes(plain) == ("null", "log", "log")
    streamed = RuntimeApp("a", ref, App(exec=("/bin/true",)),
                          annotations=tuple(KV(k, v) for k, v in zip(STDIO_ANNOTATIONS, ("stream", "stream", "null"),
                                                                     strict=True)))
    assert io_modes(streamed) == ("stream", "stream", "null")


def test_pod_mutable_from_its_manifest_annotation() -> None:
    m = PodManifest((), annotations=(KV(MUTABLE_ANNOTATION, "true"),))
    assert Pod("u", Path("/x"), m, ()).mutable
    assert not Pod("u", Path("/x"), PodManifest(()), ()).mutable


def test_frames_and_detach_keys() -> None:
    r = FrameReader()
    data = frame(STDOUT, b"hello") + frame(EXIT, b"3")
    assert r.feed(data[:4]) == []
    assert r.feed(data[4:]) == [(STDOUT, b"hello"), (EXIT, b"3")]
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,d") == b"\x01d"
    with pytest.raises(ValueError, match="ctrl-"):
        parse_detach_keys("ctrl-")
    keys = b"\x10\x11"
    assert _detach(b"ab\x10", keys) == (b"ab", b"\x10", False)
    assert _detach(b"\x10\x11rest", keys) == (b"", b"", True)
    assert _detach(b"\x10x", keys) == (b"\x10x", b"", False)
