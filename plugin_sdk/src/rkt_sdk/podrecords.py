"""Records a pod directory keeps, as :class:`~rkt_sdk.poddir.PodDir` reads and writes them.

:class:`Stage1Record` is the ``stage1`` file (the flavor that runs the pod); :class:`AppState`
is one app's recorded run. Both are importable from :mod:`rkt_sdk.poddir` too.
"""

from __future__ import annotations

import json
from collections import namedtuple

from rkt_sdk.errors import PodDirError


class AppState(namedtuple("AppState", "name started finished exit_code created pid",
                          defaults=(0, 0, None, 0, None))):
    """An app's recorded run, as :meth:`PodDir.app_states` and :meth:`PodDir.app_state` read it.

    :ivar name: the app's name.
    :ivar started: when it started, ns since the epoch (0 if unknown).
    :ivar finished: when it exited, ns since the epoch (0 if it has not).
    :ivar exit_code: its exit code, or None while it runs.
    :ivar created: when it was added to a mutable pod, ns since the epoch (0 if unknown).
    :ivar pid: the host pid of its main process, while it runs (None otherwise).
    """

    __slots__ = ()
    name: str
    started: int
    finished: int
    exit_code: int | None
    created: int
    pid: int | None

    @property
    def state(self) -> str:
        """``created`` (never started), ``running`` or ``exited``, as ``rkt app list`` shows it."""
        if self.exit_code is not None:
            return "exited"
        return "running" if self.started else "created"


class Stage1Record(namedtuple("Stage1Record",
                              "name version distribution interface_version overlay status_hook control_socket",
                              defaults=(1, True, False, False))):
    """The ``stage1`` file: which flavor runs the pod, so ``enter``, ``stop``, ``status`` and ``gc`` reach it.

    :ivar name: the flavor's name (its entry point's name).
    :ivar version: the version of the flavor's distribution.
    :ivar distribution: the flavor's distribution.
    :ivar interface_version: the stage1 interface version the flavor declared.
    :ivar overlay: whether the apps' roots are overlay mounts (else copies).
    :ivar status_hook: whether the flavor implements ``rkt_stage1_status``.
    :ivar control_socket: whether the pod's supervisor serves ``rkt app start`` on the app
        control socket (:mod:`rkt_sdk.appcontrol`); the file says ``"controlSocket": true``.
    """

    __slots__ = ()
    name: str
    version: str
    distribution: str
    interface_version: int
    overlay: bool
    status_hook: bool
    control_socket: bool

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "version": self.version, "distribution": self.distribution,
                           "interfaceVersion": self.interface_version, "overlay": self.overlay,
                           "statusHook": self.status_hook, "controlSocket": self.control_socket}) + "\n"

    @classmethod
    def from_json(cls, raw: str | bytes) -> Stage1Record:
        """Parse the file; :class:`PodDirError` if it is not a record naming a flavor."""
        try:
            d = json.loads(raw)
            name = d["name"]
        except (ValueError, TypeError, KeyError):
            raise PodDirError("malformed stage1 file") from None
        if not isinstance(name, str) or not name:
            raise PodDirError("malformed stage1 file")
        return cls(name, str(d.get("version", "")), str(d.get("distribution", "")),
                   d.get("interfaceVersion", 1), bool(d.get("overlay", True)), bool(d.get("statusHook", False)),
                   d.get("controlSocket") is True)
