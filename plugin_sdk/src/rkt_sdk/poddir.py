"""The pod directory: the files a pod keeps on disk, shared by stage0 and the flavor.

Layout (paths relative to the pod directory)::

    pod                      the pod manifest (JSON), written by stage0
    stage1                   the flavor that runs the pod (:class:`Stage1Record`, JSON), by stage0
    created, started         timestamps (ns since the epoch), by stage0
    appsinfo/<app>/manifest  the image manifest of the app's image, by stage0
    appsinfo/<app>/treeStoreID  the store trees the app's rootfs comes from, one id per line, by stage0
    appsinfo/<app>/lowers    the read-only directories of the app's rootfs, one per line,
                             topmost first (overlayfs ``lowerdir`` order), by stage0
    apps/<app>/rootfs        the app's root filesystem (overlay mount point or copy), by stage0
    overlay/<app>/{upper,work}  overlay layers of the app, by stage0
    pid, pgid                the pod process and its process group, by the flavor
    stop-timeout             the pod's stop timeout in seconds (decimal text), by stage0 at run
                             and again at ``rkt stop --timeout``
    rkt/status/<app>         the app's exit code as decimal text, by the flavor
    rkt/started/<app>        timestamp the app started, by the flavor
    rkt/created/<app>        timestamp an app was added to a mutable pod, by stage0
    rkt/pid/<app>            the host pid of the app's main process while it runs, by the flavor
    rkt/apps.lock            flock(2) serialising the ``rkt app`` commands of a mutable pod
    logs/<app>.log           the app's output in ``log`` mode (CRI format), by the flavor
    net/                     network state, by stage0 (torn down at gc)
    etc/resolv.conf, etc/hosts  resolver and hosts files for the apps, by stage0 when it has
                             something to impose (--dns, --hosts-entry, a network's DNS); a
                             flavor makes each present file the app's /etc/resolv.conf or
                             /etc/hosts and leaves the image's own file otherwise
    stage1-data/             free for the flavor (sockets, VM files...)

A flavor writes ``pid`` as soon as its pod process exists, and each app's status when the
app exits. Writes are atomic (write to a temporary name, then rename). Only this module
knows the names and formats of these files: stage0 and flavors use :class:`PodDir`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rkt_sdk.errors import PodDirError
from rkt_sdk.podrecords import AppState, Stage1Record

__all__ = ["AppState", "PodDir", "Stage1Record", "write_atomic"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rkt_sdk.appc import ImageManifest, PodManifest
    from rkt_sdk.types import NetworkAttachment, Pod


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so readers see the old content or the new, never half."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, raw)
    finally:
        os.close(fd)
    os.rename(tmp, path)


class PodDir:
    """Named access to the files of one pod directory (see the module doc for the layout)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    # paths
    @property
    def manifest_path(self) -> Path:
        return self.path / "pod"

    @property
    def stage1_data(self) -> Path:
        """The directory the flavor owns for its own files; reading the path makes nothing
        (``gc`` may ask for it on a pod that never ran): :meth:`make_stage1_data` makes it."""
        return self.path / "stage1-data"

    def make_stage1_data(self) -> Path:
        """Make :attr:`stage1_data` if missing, and return it (for a flavor about to write there)."""
        p = self.stage1_data
        p.mkdir(exist_ok=True)
        return p

    @property
    def resolv_conf(self) -> Path:
        """The resolv.conf stage0 wants the apps to see (may not exist)."""
        return self.path / "etc" / "resolv.conf"

    @property
    def hosts(self) -> Path:
        """The hosts file stage0 wants the apps to see (may not exist)."""
        return self.path / "etc" / "hosts"

    def app_rootfs(self, app: str) -> Path:
        """Where the app's root filesystem is (or will be) mounted."""
        return self.path / "apps" / app / "rootfs"

    def app_image_manifest_path(self, app: str) -> Path:
        return self.path / "appsinfo" / app / "manifest"

    # the pod manifest and the stage1 record
    def write_manifest(self, manifest: PodManifest) -> None:
        """Write the pod manifest (stage0, at prepare)."""
        write_atomic(self.manifest_path, manifest.to_json())

    def read_manifest(self) -> PodManifest:
        """The pod manifest; :class:`~rkt_sdk.errors.ManifestError` if malformed, ``OSError`` if missing."""
        from rkt_sdk.appc import PodManifest

        return PodManifest.from_json(self.manifest_path.read_bytes())

    def pod(self, uuid: str, manifest: PodManifest, lock_fd: int = -1, netns: Path | None = None,
            networks: tuple[NetworkAttachment, ...] = ()) -> Pod:
        """The :class:`~rkt_sdk.types.Pod` a flavor sees, for this directory and ``manifest``."""
        from rkt_sdk.types import Pod, PodApp

        apps = tuple(PodApp(a.name, self.app_rootfs(a.name), a) for a in manifest.apps)
        return Pod(uuid, self.path, manifest, apps, lock_fd, netns, networks)

    def read_pod(self, uuid: str) -> Pod:
        """The :class:`~rkt_sdk.types.Pod` of this directory, its manifest read from disk."""
        return self.pod(uuid, self.read_manifest())

    def write_stage1(self, record: Stage1Record) -> None:
        """Record the flavor that runs the pod (stage0, at prepare)."""
        write_atomic(self.path / "stage1", record.to_json())

    def read_stage1(self) -> Stage1Record:
        """The flavor that runs the pod; :class:`PodDirError` if the file is missing or malformed."""
        try:
            raw = (self.path / "stage1").read_bytes()
        except OSError:
            raise PodDirError(f"pod {self.path.name} does not record its stage1 flavor") from None
        try:
            return Stage1Record.from_json(raw)
        except PodDirError:
            raise PodDirError(f"pod {self.path.name} has a malformed stage1 file") from None

    # each app's image: manifest, store trees, read-only layers
    def write_app_image(self, app: str, image_manifest: str, tree_ids: tuple[str, ...],
                        lowers: tuple[Path, ...]) -> None:
        """Record the app's image (stage0, at prepare): its manifest (JSON), the store trees its
        rootfs comes from, and its read-only layer directories, topmost first."""
        info = self.path / "appsinfo" / app
        info.mkdir(parents=True, exist_ok=True)
        write_atomic(info / "manifest", image_manifest)
        write_atomic(info / "treeStoreID", "".join(f"{t}\n" for t in tree_ids))
        write_atomic(info / "lowers", "".join(f"{p}\n" for p in lowers))

    def read_app_image(self, app: str) -> ImageManifest:
        """The app's image manifest, as recorded at prepare."""
        from rkt_sdk.appc import ImageManifest

        return ImageManifest.from_json(self.app_image_manifest_path(app).read_bytes())

    def read_app_lowers(self, app: str) -> tuple[Path, ...]:
        """The app's read-only layer directories, topmost first (overlayfs ``lowerdir`` order).

        A pod prepared before ``lowers`` existed names its one tree in ``treePath``.
        """
        info = self.path / "appsinfo" / app
        try:
            return tuple(Path(line) for line in (info / "lowers").read_text().splitlines() if line)
        except FileNotFoundError:
            pass
        try:
            return (Path((info / "treePath").read_text().strip()) / "rootfs",)
        except FileNotFoundError:
            raise PodDirError(f"pod {self.path.name}: app {app!r} records no image layers") from None


    # pid and pgid
    def write_pid(self, pid: int) -> None:
        """Record the pod process (the process to signal for ``stop``)."""
        write_atomic(self.path / "pid", f"{pid}\n")

    def write_pgid(self, pgid: int) -> None:
        """Record the pod's process group (signalled when the pid is gone)."""
        write_atomic(self.path / "pgid", f"{pgid}\n")

    def _read_int(self, name: str) -> int | None:
        try:
            return int((self.path / name).read_text().strip())
        except FileNotFoundError:
            return None
        except ValueError:
            raise PodDirError(f"pod {self.path.name}: malformed {name} file") from None

    def read_pid(self) -> int | None:
        """The pod process, if recorded."""
        return self._read_int("pid")

    def read_pgid(self) -> int | None:
        """The pod's process group, if recorded."""
        return self._read_int("pgid")

    # the one stop timeout
    def write_stop_timeout(self, seconds: float) -> None:
        """Record the pod's stop timeout (stage0 does, at ``run`` and at ``rkt stop --timeout``)."""
        write_atomic(self.path / "stop-timeout", f"{seconds}\n")

    def read_stop_timeout(self, default: float = 10.0) -> float:
        """The pod's stop timeout in seconds: what the process that kills waits after SIGTERM."""
        try:
            return max(float((self.path / "stop-timeout").read_text().strip()), 0.0)
        except (OSError, ValueError):
            return default

    # timestamps
    def stamp(self, name: str) -> None:
        """Write the current time into file ``name`` (``created``, ``started``)."""
        write_atomic(self.path / name, f"{time.time_ns()}\n")

    def read_stamp(self, name: str) -> int:
        """Read a timestamp file (ns since epoch), 0 if missing."""
        return self._read_int(name) or 0

    # apps
    def record_app_started(self, app: str) -> None:
        """Record that an app started (called by the flavor)."""
        d = self.path / "rkt" / "started"
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / app, f"{time.time_ns()}\n")

    def record_app_exited(self, app: str, exit_code: int) -> None:
        """Record an app's exit code (called by the flavor when the app ends)."""
        d = self.path / "rkt" / "status"
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / app, f"{exit_code}\n")

    def any_app_started(self) -> bool:
        """Whether the flavor recorded any app as started: from then on the pod counts as running
        (see :mod:`rkt_sdk.contract`)."""
        try:
            return any(not n.startswith(".") for n in os.listdir(self.path / "rkt" / "started"))
        except FileNotFoundError:
            return False

    def app_states(self) -> dict[str, AppState]:
        """Recorded start/exit of each app that has any record."""
        out: dict[str, AppState] = {}
        started = self.path / "rkt" / "started"
        status = self.path / "rkt" / "status"
        names: set[str] = set()
        for d in (started, status):
            try:
                names.update(n for n in os.listdir(d) if not n.startswith("."))
            except FileNotFoundError:
                pass
        for n in sorted(names):
            s = f = 0
            code = None
            try:
                s = int((started / n).read_text())
            except (FileNotFoundError, ValueError):
                pass
            try:
                st = os.stat(status / n)
                code = int((status / n).read_text())
                f = st.st_mtime_ns
            except (FileNotFoundError, ValueError):
                pass
            out[n] = AppState(n, s, f, code)
        return out

    # apps of a mutable pod: creation, pid, logs, forgetting
    @property
    def app_server_path(self) -> Path:
        """The socket on which a sandbox's rkt process runs ``rkt app`` commands for their callers (stage0's)."""
        return self.path / "rkt" / "app-server"

    @property
    def app_lock_path(self) -> Path:
        """The file whose flock(2) serialises the ``rkt app`` commands of this pod."""
        return self.path / "rkt" / "apps.lock"

    def app_log_path(self, app: str) -> Path:
        """Where an app's output goes in ``log`` mode (CRI log format)."""
        return self.path / "logs" / f"{app}.log"

    def _app_record(self, kind: str, app: str) -> Path:
        d = self.path / "rkt" / kind
        d.mkdir(parents=True, exist_ok=True)
        return d / app

    def record_app_created(self, app: str) -> None:
        """Record that an app was added to the pod (stage0, at ``rkt app add``)."""
        write_atomic(self._app_record("created", app), f"{time.time_ns()}\n")

    def record_app_pid(self, app: str, pid: int | None) -> None:
        """Record the host pid of an app's main process (``None``: it has none any more)."""
        if pid is None:
            try:
                os.unlink(self.path / "rkt" / "pid" / app)
            except FileNotFoundError:
                pass
            return
        write_atomic(self._app_record("pid", app), f"{pid}\n")

    def clear_app_exit(self, app: str) -> None:
        """Forget an app's last exit (the flavor does, as it starts the app again)."""
        try:
            os.unlink(self.path / "rkt" / "status" / app)
        except FileNotFoundError:
            pass

    def app_dirs(self, app: str) -> tuple[Path, ...]:
        """Every directory the pod keeps for an app: its root, its overlay layers, its image record."""
        return (self.path / "apps" / app, self.path / "overlay" / app, self.path / "appsinfo" / app)

    def apps_on_disk(self) -> set[str]:
        """Names of the apps with anything in the pod directory (directories or records)."""
        names: set[str] = set()
        for d in (*(self.path / k for k in ("apps", "overlay", "appsinfo")),
                  *(self.path / "rkt" / k for k in ("created", "started", "status", "pid"))):
            try:
                names.update(n for n in os.listdir(d) if not n.startswith("."))
            except FileNotFoundError:
                pass
        return names

    def forget_app(self, app: str) -> None:
        """Remove every record of an app (stage0, when the app leaves the pod)."""
        for kind in ("created", "started", "status", "pid"):
            try:
                os.unlink(self.path / "rkt" / kind / app)
            except FileNotFoundError:
                pass

    def app_state(self, app: str) -> AppState:
        """One app's recorded state (zeros and None where nothing is recorded)."""
        def num(kind: str) -> tuple[int | None, int]:
            p = self.path / "rkt" / kind / app
            try:
                return int(p.read_text()), os.stat(p).st_mtime_ns
            except (FileNotFoundError, ValueError):
                return None, 0

        code, finished = num("status")
        return AppState(app, num("started")[0] or 0, finished if code is not None else 0, code,
                        num("created")[0] or 0, num("pid")[0] if code is None else None)
