"""``rkt attach`` to apps of a coreos sandbox: a ``stream`` app (buffered output, several clients,
end of input, the app's exit code) and a ``tty`` app under a pseudo-terminal (window size, detach keys)."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

from tests.functional.test_app_sandbox import Sandbox


def _read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while needle not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} in {got!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    assert needle in got, f"no {needle!r} in {got!r}"
    return got


def test_attach_to_a_stream_app_buffered_output_two_clients_and_exit_code(sandbox: Sandbox, busybox: str) -> None:
    sandbox.add(busybox, "cat", 'echo before; while read l; do echo "got $l"; echo "err $l" >&2; done; exit 4',
                "--stdin=stream", "--stdout=stream", "--stderr=stream")
    sandbox.ok("start", sandbox.uuid, "--app=cat")
    time.sleep(0.3)  # "before" is written while nobody is attached, and kept
    first = sandbox.rkt.popen("attach", sandbox.uuid, "--app=cat", stdin=subprocess.PIPE)
    assert first.stdout is not None and first.stdin is not None
    _read_until(first.stdout.fileno(), b"before\n")
    second = sandbox.rkt.popen("attach", "--mode=stdout,stderr", sandbox.uuid, "--app=cat")
    time.sleep(0.5)  # the second client is attached
    first.stdin.write("one\n")
    first.stdin.flush()
    _read_until(first.stdout.fileno(), b"got one\n")
    first.stdin.close()  # end of input: the app's loop ends
    first.stdin = None
    _out1, err1 = first.communicate(timeout=20)
    out2, err2 = second.communicate(timeout=20)
    assert first.returncode == 4 and second.returncode == 4, (err1, err2)
    assert "err one" in err1 and "got one" in out2 and "err one" in err2 and "before" not in out2
    st = sandbox.status("cat")
    assert st["state"] == "exited" and st["exit_code"] == 4


def test_attach_keeps_up_with_a_chatty_app(sandbox: Sandbox, busybox: str) -> None:
    """Output faster than the client reads is queued for it (bounded), not dropped: every line arrives, in order."""
    sandbox.add(busybox, "chatty", "read go; seq 1 200000; exit 0", "--stdin=stream", "--stdout=stream")
    sandbox.ok("start", sandbox.uuid, "--app=chatty")
    p = sandbox.rkt.popen("attach", sandbox.uuid, "--app=chatty", stdin=subprocess.PIPE)
    out, err = p.communicate("go\n", timeout=60)
    assert p.returncode == 0, err
    assert out.split() == [str(i) for i in range(1, 200001)]


def test_attach_refused_for_a_log_app(sandbox: Sandbox, busybox: str) -> None:
    sandbox.add(busybox, "logged", "sleep 1000")
    sandbox.ok("start", sandbox.uuid, "--app=logged")
    r = sandbox.rkt("attach", sandbox.uuid, "--app=logged")
    assert r.code == 254 and "no stream or tty to attach to" in r.err, str(r)


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_attach_to_a_tty_app_under_a_pty_window_size_and_detach(sandbox: Sandbox, busybox: str) -> None:
    script = 'echo "TERM=$TERM"; while read l; do echo "got $l"; /bin/busybox stty size; done'
    sandbox.add(busybox, "term", script, "--stdin=tty", "--stdout=tty")
    sandbox.ok("start", sandbox.uuid, "--app=term")
    master, slave = os.openpty()
    _set_size(slave, 30, 100)
    p = subprocess.Popen(sandbox.rkt.argv(("attach", sandbox.uuid, "--app=term")), stdin=slave, stdout=slave,
                         stderr=slave, start_new_session=True)
    sandbox.rkt.procs.append(p)  # type: ignore[arg-type]
    os.close(slave)
    try:
        time.sleep(0.5)
        os.write(master, b"hello\r")
        assert b"TERM=xterm" in _read_until(master, b"30 100")
        _set_size(master, 40, 120)
        p.send_signal(signal.SIGWINCH)
        time.sleep(0.3)
        os.write(master, b"again\r")
        out = _read_until(master, b"40 120")
        assert b"got again" in out
        os.write(master, b"\x10\x11")  # ctrl-p ctrl-q: detach, the app goes on
        assert p.wait(timeout=10) == 0
        assert sandbox.status("term")["state"] == "running"
        again = subprocess.Popen(sandbox.rkt.argv(("attach", sandbox.uuid, "--app=term")), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert again.stdin is not None and again.stdout is not None
        again.stdin.write(b"third\n")
        again.stdin.flush()
        _read_until(again.stdout.fileno(), b"got third")
        again.kill()
        again.wait()
    finally:
        os.close(master)
    sandbox.ok("stop", sandbox.uuid, "--app=term")
