"""The supervisor of a sandbox VM (a mutable pod): apps come and go while the VM runs.

The VM boots with no apps and one more 9p share, the pod's ``apps/`` directory, mounted at
``/sbx`` in the guest: stage0 makes each added app's root (an overlay) on the host under it,
and ``rkt app add`` writes the app's script to ``apps/<key>.sh`` of the exchange share
(:mod:`rkt_sdk.vm.sandboxapps`). ``rkt app start|stop|rm`` then ask this supervisor, over its
socket, to have the guest start, stop or forget the app (see :mod:`rkt_sdk.vm.protocol`); it
answers once the guest reports it, and records each start (with the app's pid in the guest) and
exit in the pod directory as the coreos flavor does. An app that exits never ends the pod; the
pod ends when it is stopped (its apps first, then the guest powers off) and exits 0.

Output of an app in ``log`` mode is appended by the guest to spool files of the exchange share;
this supervisor turns what they gain into the app's CRI log (:class:`rkt_sdk.appio.CriLog`),
polling them while the app runs.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from rkt_sdk.appio import CriLog
from rkt_sdk.vm import protocol
from rkt_sdk.vm.guest import app_key
from rkt_sdk.vm.supervisor import Supervisor

#: seconds between two looks at the log spools of running apps
LOG_POLL = 0.1


class _Spool:
    """One output spool of an app (``out/<key>.out`` or ``.err``) and how much of it is logged."""

    def __init__(self, path: Path, stream: str) -> None:
        self.path = path
        self.stream = stream
        self.offset = 0

    def pump(self, log: CriLog) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        log.write(self.stream, data)


class _AppLog:
    """The CRI log of one running app and the spools that feed it."""

    def __init__(self, path: Path, spools: list[_Spool]) -> None:
        self.log = CriLog(path)
        self.spools = spools

    def pump(self) -> None:
        for s in self.spools:
            s.pump(self.log)

    def close(self) -> None:
        self.pump()
        self.log.close()
        for s in self.spools:
            try:
                s.path.unlink()
            except FileNotFoundError:
                pass


class SandboxSupervisor(Supervisor):
    """A :class:`Supervisor` whose apps are added, started, stopped and removed on request."""

    def __init__(self, pod_path: Path, channels: Any, vm: Any, **kwargs: Any) -> None:
        super().__init__(pod_path, [], channels, vm, **kwargs)
        self.running: dict[str, int] = {}
        self.stopping = False
        self.logs: dict[str, _AppLog] = {}
        self.waiters: dict[str, list[tuple[socket.socket, str]]] = {}
        self.xchg = self.pd.stage1_data / "xchg"
        self.before_ready: list[tuple[socket.socket, dict[str, Any]]] = []

    # --- apps ---------------------------------------------------------------------------------

    def app_key(self, app: str) -> int | str | None:
        key = app_key(app)
        return key if (self.xchg / "apps" / f"{key}.sh").is_file() else None

    def client_request(self, client: socket.socket, req: dict[str, Any]) -> bool:
        op, app = req.get("op"), req.get("app")
        if op not in ("app-start", "app-stop", "app-rm", "app-reopen"):
            return False
        if not self.ready and not self.shutdown_sent and not self.guest_error:
            self.before_ready.append((client, req))  # answered once the guest is up
            return True
        key = self.app_key(app) if isinstance(app, str) else None
        if not isinstance(app, str) or (key is None and op != "app-rm"):
            self.requests.reply(client, {"ev": "error", "msg": f"{op}: no app {app!r} in this pod"})
        elif not self.ready or self.shutdown_sent or self.stopping:
            self.requests.reply(client, {"ev": "error", "msg": f"{op}: the pod is not running"})
        elif op == "app-start":
            self._start_app(client, app, req)
        elif op == "app-stop":
            self._stop_app(client, app, bool(req.get("force")), float(req.get("timeout", self.stop_timeout)))
        elif op == "app-rm":
            self._wait(app, client, "rm")
            self.send_guest(protocol.cmd_rm(app_key(app), app))
        else:
            if app in self.logs:
                self.logs[app].log.reopen()
            self.requests.reply(client, {"ev": "ok"})
        return True

    def _wait(self, app: str, client: socket.socket, what: str) -> None:
        self.waiters.setdefault(app, []).append((client, what))

    def _answer(self, app: str, what: str, msg: dict[str, Any]) -> None:
        keep = []
        for client, w in self.waiters.pop(app, []):
            if what in (w, "*"):
                self.requests.reply(client, msg)
            else:
                keep.append((client, w))
        if keep:
            self.waiters[app] = keep

    def _start_app(self, client: socket.socket, app: str, req: dict[str, Any]) -> None:
        if app in self.running:
            self.requests.reply(client, {"ev": "error", "msg": f'app "{app}" is already running'})
            return
        key = app_key(app)
        modes = [m if m in ("log", "null") else "null" for m in (req.get("stdout"), req.get("stderr"))]
        spools = []
        for mode, ext, stream in zip(modes, ("out", "err"), ("stdout", "stderr"), strict=True):
            if mode == "log":
                path = self.xchg / "out" / f"{key}.{ext}"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(b"")
                spools.append(_Spool(path, stream))
        if spools:
            old = self.logs.pop(app, None)
            if old is not None:
                old.close()
            self.logs[app] = _AppLog(self.pd.app_log_path(app), spools)
        self._wait(app, client, "start")
        self.send_guest(protocol.cmd_start(key, *modes))

    def _stop_app(self, client: socket.socket, app: str, force: bool, timeout: float) -> None:
        if app not in self.running:
            self.requests.reply(client, {"ev": "ok", "exit": None})
            return
        self._wait(app, client, "stop")
        self.send_guest(protocol.cmd_stop_app(app_key(app), 0 if force else timeout))

    # --- guest events -----------------------------------------------------------------------

    def _event(self, ev: dict[str, Any]) -> None:
        kind, app = ev["ev"], ev.get("app")
        if not isinstance(app, str) or kind not in ("started", "exited", "failed", "removed"):
            super()._event(ev)
            if self.ready:
                waiting, self.before_ready = self.before_ready, []
                for client, req in waiting:
                    self.client_request(client, req)
        elif kind == "started":
            pid = ev.get("pid")
            self.pd.clear_app_exit(app)
            self.pd.record_app_started(app)
            self.pd.record_app_pid(app, pid if isinstance(pid, int) else None)
            self.running[app] = pid if isinstance(pid, int) else 0
            self._answer(app, "start", {"ev": "ok"})
        elif kind == "exited":
            self._exited(app, int(ev.get("code", 255)))
        elif kind == "failed":
            name = next((a for a in self.waiters if app_key(a) == app), app)
            log = self.logs.pop(name, None)
            if log is not None:
                log.close()
            self._answer(name, "start", {"ev": "error", "msg": f"app {name}: {ev.get('msg', 'cannot start')}"})
        else:
            self._answer(app, "rm", {"ev": "ok"})

    def _exited(self, app: str, code: int) -> None:
        self.running.pop(app, None)
        log = self.logs.pop(app, None)
        if log is not None:
            log.close()
        self.pd.record_app_exited(app, code)
        self.pd.record_app_pid(app, None)
        self.exited[app] = code
        self._answer(app, "stop", {"ev": "ok", "exit": code})
        if self.stopping and not self.running:
            self._shutdown()

    def request_stop(self, timeout: float) -> None:
        """Stop the pod: its running apps first, then the guest powers off."""
        if not self.ready:
            super().request_stop(timeout)
            return
        self.stopping = True
        if not self.running:
            self._shutdown()
            return
        super().request_stop(timeout)

    # --- the loop -----------------------------------------------------------------------------

    def _check_deadlines(self, now: float) -> None:
        for log in self.logs.values():
            log.pump()
        super()._check_deadlines(now)

    def _timeout(self, now: float) -> float | None:
        t = super()._timeout(now)
        if self.logs:
            return LOG_POLL if t is None else min(t, LOG_POLL)
        return t

    def _teardown(self) -> None:
        for log in self.logs.values():
            log.close()
        self.logs.clear()
        for app in list(self.waiters):
            self._answer(app, "*", {"ev": "error", "msg": "the pod ended"})
        super()._teardown()

    def _result(self) -> int:
        if self.ready:
            return 0
        return super()._result()


def make_supervisor(pod: Any, channels: Any, vm: Any, **kwargs: Any) -> Supervisor:
    """The supervisor of ``pod``: a :class:`SandboxSupervisor` for a mutable pod."""
    if pod.mutable:
        return SandboxSupervisor(pod.path, channels, vm, **kwargs)
    return Supervisor(pod.path, [a.name for a in pod.apps], channels, vm, **kwargs)

