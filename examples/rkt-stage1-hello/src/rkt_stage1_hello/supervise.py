"""Running the app as a child of the rkt process, and entering its root.

The rkt process stays the pod's process: it holds the pod lock (``Pod.lock_fd``), writes
its pid, forwards SIGTERM/SIGINT to the app, kills the app when the stop timeout passes,
and records the app's exit code before returning it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rkt_sdk.appenv import app_environ
from rkt_sdk.errors import FlavorError
from rkt_sdk.linux import mount as M
from rkt_sdk.linux.creds import Credentials, CredentialsError, resolve
from rkt_sdk.poddir import PodDir
from rkt_sdk.resolved import mount_read_only
from rkt_sdk.types import EnterOptions, Pod, PodApp, RunOptions


def _target(root: Path, inside: str, is_dir: bool) -> Path:
    """A mount target inside the app's root; symlinks in the image cannot lead out of it."""
    t = M.resolve_in_root(root, inside)
    if is_dir:
        t.mkdir(parents=True, exist_ok=True)
    elif not t.exists():
        t.parent.mkdir(parents=True, exist_ok=True)
        t.touch()
    return t


def _mount_all(pod: Pod, app: PodApp, options: RunOptions) -> None:
    root = app.rootfs
    pd = PodDir(pod.path)
    if options.settings.get("mount-proc", True):
        M.bind("/dev", _target(root, "/dev", True), recursive=True)
        M.bind("/proc", _target(root, "/proc", True), recursive=True)
    volumes = {v.name: v for v in pod.manifest.volumes}
    for m in app.runtime.mounts:
        v = volumes.get(m.volume)
        if v is None:
            raise FlavorError(f"app {app.name!r} mounts unknown volume {m.volume!r}")
        if v.kind == "host":
            src = Path(v.source)
            if not src.exists():
                raise FlavorError(f"volume {v.name!r}: host path {v.source} does not exist")
        else:
            src = pd.stage1_data / "volumes" / v.name
            src.mkdir(parents=True, exist_ok=True)
        read_only = mount_read_only(v, app.runtime.app)  # rkt's rule: the volume's readOnly, else the image's
        M.bind(src, _target(root, m.path, src.is_dir()), read_only=read_only, recursive=v.recursive)
    for name, imposed in (("resolv.conf", pd.resolv_conf), ("hosts", pd.hosts)):
        if imposed.exists():
            M.bind(imposed, _target(root, f"/etc/{name}", False), read_only=True)


def _enter_root(root: Path, cwd: str, creds: Credentials) -> Callable[[], None]:
    def become() -> None:
        os.chroot(root)
        try:
            os.chdir(cwd)
        except OSError:
            os.chdir("/")
        os.setgroups(list(creds.groups))
        os.setgid(creds.gid)
        os.setuid(creds.uid)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return become


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def run_app(pod: Pod, options: RunOptions) -> int:
    """Start the single app under chroot, supervise it, and return its exit code."""
    if len(pod.apps) != 1:
        raise FlavorError(f"the hello flavor runs exactly one app per pod, got {len(pod.apps)}")
    app = pod.apps[0]
    spec = app.runtime.app
    if not spec.exec:
        raise FlavorError(f"app {app.name!r} has nothing to run")
    try:
        creds = resolve(app.rootfs, spec.user, spec.group, spec.supplementary_gids, app.name)
    except CredentialsError as e:
        raise FlavorError(str(e)) from None
    _mount_all(pod, app, options)
    pd = PodDir(pod.path)
    if not sys.stdin.isatty():
        try:
            os.setpgid(0, 0)  # our own process group, so that stop --force reaches every process
        except OSError:
            pass
    pd.write_pid(os.getpid())
    pd.write_pgid(os.getpgid(0))
    greeting = str(options.settings.get("greeting") or "")
    if greeting:
        sys.stderr.write(greeting + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        child = subprocess.Popen(list(spec.exec), env=app_environ(app.runtime, creds),
                                 preexec_fn=_enter_root(app.rootfs, spec.working_directory or "/", creds))
    except OSError as e:
        raise FlavorError(f"app {app.name!r}: cannot start {spec.exec[0]}: {e.strerror}") from None
    pd.record_app_started(app.name)

    def forward(signum: int, frame: FrameType | None) -> None:
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass
        signal.signal(signal.SIGALRM, lambda *_: child.kill())
        signal.alarm(max(1, int(options.stop_timeout)))

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = _exit_code(child.wait())
    signal.alarm(0)
    pd.record_app_exited(app.name, code)
    return code


def enter_app(pod: Pod, options: EnterOptions) -> int:
    """Run a command in the app's root with the app's environment, as root; its exit code."""
    app = pod.app(options.app)
    if app is None:
        raise FlavorError(f"the pod has no app {options.app!r}")
    creds = resolve(app.rootfs, "0", "0", (), app.name)
    sys.stdout.flush()
    try:
        p = subprocess.Popen(list(options.command), env=app_environ(app.runtime, creds),
                             preexec_fn=_enter_root(app.rootfs, "/", creds))
    except OSError as e:
        raise FlavorError(f"cannot run {options.command[0]} in app {app.name!r}: {e.strerror}") from None
    return _exit_code(p.wait())
