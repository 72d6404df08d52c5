"""The host<->guest control protocol, carried by the virtio-serial port ``rkt.control``.

Guest to host: one JSON object per line, with an ``ev`` key::

    {"ev": "ready"}                               pod script done, apps starting
    {"ev": "started", "app": "web"}               (a sandbox's app: also "pid", its pid in the guest)
    {"ev": "exited", "app": "web", "code": 0}     (128+n when killed by signal n)
    {"ev": "failed", "app": "web", "msg": "..."}  a sandbox's app could not be started
    {"ev": "removed", "app": "web"}               a sandbox's app is gone from the guest
    {"ev": "entered", "id": "3", "code": 0}      an enter command finished
    {"ev": "error", "msg": "..."}                 the pod could not be set up
    {"ev": "bye"}                                 the guest is powering off

Host to guest: one command per line, words separated by spaces (the guest is busybox sh)::

    stop <seconds>                 SIGTERM every app, SIGKILL after <seconds>
    kill                           SIGKILL every app
    enter <id> <app-index> <arg>*  run a command in an app's root; each arg is base64("x"+arg+"x");
                                   its stdin, stdout, stderr are spool files enter/<id>.{in,out,err}
                                   of the exchange share; stdin ends when enter/<id>.eof exists
    shutdown                       power off

In a sandbox (a mutable pod), apps come and go; each is named in the guest by its key
(:func:`rkt_sdk.vm.guest.app_key`), its script is ``apps/<key>.sh`` of the exchange share and
its root ``<name>/rootfs`` of the share of the pod's ``apps/`` directory::

    start <key> <out> <err>        set the app up (once) and run it; <out>, <err>: log or null
                                   (log: the guest appends to out/<key>.out, out/<key>.err of the
                                   exchange share, which the host turns into the app's CRI log)
    stopapp <key> <seconds>        the app's stop signal, SIGKILL after <seconds> (0: at once)
    rm <key> <name>                kill the app, unmount what the guest mounted in its root

The same module holds the supervisor socket's protocol (host processes to the pod's
supervisor, JSON lines both ways): ``{"op": "enter", "app", "argv", "stdin"}``, ``{"op": "stop",
"force", "timeout"}``, ``{"op": "status"}``; and in a sandbox ``{"op": "app-start", "app", "stdout",
"stderr"}``, ``{"op": "app-stop", "app", "force", "timeout"}``, ``{"op": "app-rm", "app"}``,
``{"op": "app-reopen", "app"}`` (each answered ``{"ev": "ok"}``, with ``"exit"`` for a stop, or
``{"ev": "error", "msg"}``).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from rkt_sdk.vm.errors import GuestError


def parse_event(line: bytes | str) -> dict[str, Any]:
    """One guest event line.

    :raises GuestError: the line is not a JSON object with an ``ev`` key.
    """
    try:
        ev = json.loads(line)
    except ValueError:
        raise GuestError(f"guest control line {line!r}: not JSON") from None
    if not isinstance(ev, dict) or not isinstance(ev.get("ev"), str):
        raise GuestError(f"guest control line {line!r}: no \"ev\" field")
    return ev


def encode_arg(arg: str) -> str:
    """An argument as the guest decodes it (base64 of the argument framed by ``x``)."""
    return base64.b64encode(("x" + arg + "x").encode()).decode()


def cmd_stop(grace: float) -> bytes:
    return f"stop {max(0, math.ceil(grace))}\n".encode()


def cmd_kill() -> bytes:
    return b"kill\n"


def cmd_shutdown() -> bytes:
    return b"shutdown\n"


def cmd_enter(enter_id: int, app_key: int | str, argv: Sequence[str]) -> bytes:
    return (" ".join(["enter", str(enter_id), str(app_key), *(encode_arg(a) for a in argv)]) + "\n").encode()


def cmd_start(key: str, stdout: str, stderr: str) -> bytes:
    return f"start {key} {stdout} {stderr}\n".encode()


def cmd_stop_app(key: str, grace: float) -> bytes:
    secs = round(grace, 2) if grace >= 0.01 else 0
    return f"stopapp {key} {secs:g}\n".encode()


def cmd_rm(key: str, name: str) -> bytes:
    return f"rm {key} {name}\n".encode()


def dump(msg: dict[str, Any]) -> bytes:
    """A supervisor-socket message as one line."""
    return (json.dumps(msg) + "\n").encode()
