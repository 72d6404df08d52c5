"""``rkt app start`` and ``rkt app add`` in a few system calls, before any command module is loaded.

An orchestrator starts and adds apps far more often than it does anything else with a pod,
and loading rkt costs a short-lived command more than the work. Both paths import only
:mod:`os`, :mod:`fcntl`, ``_socket`` and ``_json``; ``pathlib``, ``json`` and ``re`` alone would
cost more than the whole start.

- :func:`app_start`: for a pod whose flavor serves starts on its app control socket
  (:mod:`rkt_sdk.appcontrol`), no flavor, manifest or pod model is needed: find the pod, take
  its app lock, send one line, read one line.
- :func:`app_via_server`: ``rkt app add`` is handed, with this process's stdio, directory,
  umask and environment, to the sandbox's own rkt process, which runs it in a warm worker
  (:mod:`rkt.podflow.appserver`); this process waits for its exit status and passes on the
  signals it gets.

Whenever anything is out of the ordinary (``--debug``, a data directory set in ``paths.d``,
no single running pod of that UUID, a pod whose flavor does not serve the socket or whose
server or supervisor does not answer), they return None and the command takes its usual
path, which says what is wrong the usual way.
"""

from __future__ import annotations

import os

from rkt.cli.globalflags import config_dirs, data_dir, parse_insecure, scan_global
from rkt.podstates import POD_STATES

#: where a pod's data directory is when neither ``--dir``, ``$RKT_DIR`` nor ``paths.d`` says
DEFAULT_DATA_DIR = "/var/lib/rkt"
#: set in a worker of a sandbox's app server: the command runs there, and asks no server again
SERVED = False


def run(argv: list[str]) -> int | None:
    """The exit status of ``rkt argv`` if a fast path ran it, else None."""
    status = app_start(argv) if "start" in argv else None
    return status if status is not None else app_via_server(argv)


def app_start(argv: list[str]) -> int | None:
    """Run ``rkt app start UUID --app=NAME`` given ``argv`` (the words after ``rkt``) over the
    pod's app control socket; its exit status, or None for the usual path."""
    found = _command(argv, "start")
    if found is None:
        return None
    data, rest = found
    words = _uuid_and_app(rest)
    if words is None:
        return None
    pod = _running_pod(data, words[0])
    if pod is None or not _serves_start(pod):
        return None
    return _start(pod, words[1])


def app_via_server(argv: list[str]) -> int | None:
    """Have the sandbox's rkt process run ``rkt app add UUID ...``; its exit status, or None for the usual path."""
    if SERVED:
        return None
    found = _command(argv, "add")
    if found is None or not found[1] or found[1][0].startswith("-"):
        return None
    pod = _running_pod(found[0], found[1][0])
    if pod is None:
        return None
    from rkt.cli.served import run_served

    return run_served(os.path.join(pod, "rkt", "app-server"), argv)  # PodDir.app_server_path, without pathlib


def _command(argv: list[str], sub: str) -> tuple[str, list[str]] | None:
    """(the data directory, the words after ``rkt app SUB``) if ``argv`` is that command in an ordinary form."""
    try:
        values, rest = scan_global(argv, None)
        if "insecure_options" in values:
            parse_insecure(str(values["insecure_options"]))  # a bad value is the usual path's error
    except ValueError:
        return None
    if values.get("debug") or rest[:2] != ["app", sub] or "-h" in rest or "--help" in rest:
        return None
    data = data_dir(values)
    if data is None:
        if any(os.path.isdir(os.path.join(d, "paths.d")) for d in config_dirs(values)):
            return None
        data = DEFAULT_DATA_DIR
    return data, rest[2:]


def _uuid_and_app(args: list[str]) -> tuple[str, str] | None:
    """``UUID --app=NAME`` (in either order, ``--app NAME`` too), or None for anything else."""
    uuid = app = None
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--app="):
            app = a[6:]
        elif a == "--app" and i + 1 < len(args):
            app = args[i + 1]
            i += 1
        elif a.startswith("-") or uuid is not None:
            return None
        else:
            uuid = a
        i += 1
    return (uuid, app) if uuid and app else None


def _running_pod(data: str, uuid: str) -> str | None:
    """The path of the one pod ``uuid`` (or a prefix) names if it is in ``run`` and locked (running)."""
    from rkt.pods.lock import is_locked

    want = uuid.strip().lower()
    if not want:
        return None
    found = []
    for state in POD_STATES:
        try:
            names = os.listdir(os.path.join(data, "pods", state))
        except OSError:
            continue
        found += [(state, n) for n in names if len(n) == 36 and n.startswith(want)]
    if len(found) != 1 or found[0][0] != "run":
        return None
    path = os.path.join(data, "pods", "run", found[0][1])
    try:
        return path if is_locked(path) else None  # a pod in run nobody holds has exited
    except OSError:
        return None


def _serves_start(pod: str) -> bool:
    """Whether the pod's ``stage1`` record says its supervisor serves starts on the control socket."""
    try:
        with open(os.path.join(pod, "stage1"), "rb") as f:
            raw = f.read(1 << 16)
        record = _json_object(raw.decode())
    except (OSError, ValueError):
        return False
    return record is not None and record.get("controlSocket") is True


def _start(pod: str, app: str) -> int | None:
    import fcntl

    from rkt_sdk import appcontrol

    try:
        request = appcontrol.start_request(app)
        # PodDir.app_lock_path, without pathlib
        lock = os.open(os.path.join(pod, "rkt", "apps.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except (ValueError, OSError):
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one 'rkt app' command of the pod at a time, as the usual path
        if not os.path.exists(os.path.join(pod, "pod")):
            return None  # gone meanwhile
        try:
            sock = appcontrol.connect(pod)
        except OSError:
            return None  # not listening (yet): the usual path waits for a sandbox that is starting
        try:
            sock.settimeout(30.0)
            sock.sendall(request)
            answer = appcontrol.read_line(sock)
        except OSError as e:
            return _fail(f"pod {os.path.basename(pod)}: no answer from its supervisor ({e})")
        finally:
            sock.close()
    finally:
        os.close(lock)
    if answer == appcontrol.START_OK:
        return 0
    try:
        message = _json_object(answer.decode())
    except ValueError:
        message = None
    if message is None or "error" not in message:
        return _fail(f"pod {os.path.basename(pod)}: its supervisor ended the request without an answer")
    return _fail(str(message["error"]))


def _fail(message: str) -> int:
    import sys

    sys.stderr.write(f"app: {message}\n")
    return 254


class _Strict:
    """What CPython's C JSON scanner reads from its context: json.loads's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        raise ValueError(f"not JSON: {name}")


def _json_object(text: str) -> dict[str, object] | None:
    """``text`` as a JSON object, or None if it is another value; :class:`ValueError` if it is no JSON.

    Parsed by the C scanner behind :func:`json.loads` (``_json``), without the pure-Python
    layer around it, which imports :mod:`re` (and with it ``enum`` and ``functools``).
    """
    try:
        from _json import make_scanner
    except ImportError:
        import json

        value = json.loads(text)
    else:
        text = text.strip()
        try:
            value, end = make_scanner(_Strict())(text, 0)  # type: ignore[arg-type]
        except StopIteration:
            raise ValueError("not JSON") from None
        if end != len(text):
            raise ValueError("not JSON: extra data")
    return value if isinstance(value, dict) else None
