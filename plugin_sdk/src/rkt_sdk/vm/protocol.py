"""The host<->guest control protocol, carried by the virtio-serial port ``rkt.control``.

Guest to host: one JSON object per line, with an ``ev`` key::

    {"ev": "ready"}                               pod script done, apps starting
    {"ev": "started", "app": "web"}
    {"ev": "exited", "app": "web", "code": 0}     (128+n when killed by signal n)
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

The same module holds the supervisor socket's protocol (host processes to the pod's
supervisor, JSON lines both ways): ``{"op": "enter", "app", "argv", "stdin"}``, ``{"op": "stop",
"force", "timeout"}``, ``{"op": "status"}``.
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


def cmd_enter(enter_id: int, app_index: int, argv: Sequence[str]) -> bytes:
    return (" ".join(["enter", str(enter_id), str(app_index), *(encode_arg(a) for a in argv)]) + "\n").encode()


def dump(msg: dict[str, Any]) -> bytes:
    """A supervisor-socket message as one line."""
    return (json.dumps(msg) + "\n").encode()
