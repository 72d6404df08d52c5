"""Making the fly app's mounts and exec'ing it (in the stage0 process).

The mounts fly adds (``/dev``, ``/proc``, ``/sys``, ``/tmp``, volumes, resolv.conf and hosts)
are made in a private mount namespace of the pod process, so they leave the host's mount
table alone and vanish with the app; the pod keeps the host's pid and network namespaces.
``rkt enter`` joins that mount namespace through the pid recorded in the pod directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rkt_sdk.errors import FlavorError
from rkt_sdk.linux import mount as M
from rkt_sdk.poddir import PodDir
from rkt_sdk.resolved import ResolvedApp, environment, make_volume_dirs, resolve_app
from rkt_sdk.types import EnterOptions, Pod, RunOptions


def _ensure(path: Path, is_dir: bool) -> None:
    if path.is_symlink():
        raise FlavorError(f"mount target {path} is a symlink")
    if is_dir:
        path.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def _target(root: Path, inside: str, is_dir: bool) -> Path:
    t = M.resolve_in_root(root, inside)
    _ensure(t, is_dir)
    return t


def _check_executable(root: Path, path: str, app: str) -> None:
    """Refuse an exec that cannot run, before anything is mounted for the app."""
    if not path.startswith("/"):
        raise FlavorError(f"app {app!r}: exec {path} is not an absolute path")
    exe = M.resolve_in_root(root, path)
    if not os.path.exists(exe):
        raise FlavorError(f"app {app!r}: {path} not found in the image")
    if not os.path.isfile(exe) or not os.stat(exe).st_mode & 0o111:
        raise FlavorError(f"app {app!r}: {path} in the image is not an executable file")


def prepare_app(pod: Pod, options: RunOptions) -> ResolvedApp:
    """Check the app can start, then make its mounts; raise FlavorError before mounting on bad input.

    The app shares the caller's terminal: it is the process rkt was started as.
    """
    app = resolve_app(pod, pod.apps[0], terminal=True)
    root = app.rootfs
    _check_executable(root, app.argv[0], app.name)
    pd = PodDir(pod.path)
    _private_mount_namespace()
    M.bind("/dev", _target(root, "/dev", True), recursive=True)
    M.bind("/proc", _target(root, "/proc", True), recursive=False)
    M.bind("/sys", _target(root, "/sys", True), recursive=False)
    size = str(options.settings.get("tmpfs-size") or "")
    M.mount("tmpfs", _target(root, "/tmp", True), "tmpfs", M.MS_NOSUID | M.MS_NODEV,
            "mode=1777" + (f",size={size}" if size else ""))
    make_volume_dirs(app.mounts)
    for m in app.mounts:
        M.bind(m.source, _target(root, m.target, os.path.isdir(m.source)), read_only=m.read_only,
               recursive=m.recursive)
    for name, imposed in (("resolv.conf", pd.resolv_conf), ("hosts", pd.hosts)):
        src = imposed if imposed.exists() else Path("/etc") / name
        if src.exists():
            M.bind(src, _target(root, f"/etc/{name}", False), read_only=True, recursive=False)
    if not M.resolve_in_root(root, app.cwd).is_dir():
        raise FlavorError(f"app {app.name!r}: working directory {app.cwd} is not a directory in the app")
    return app


def _private_mount_namespace() -> None:
    """Move this process into a mount namespace of its own whose mounts never propagate back."""
    from rkt_sdk.linux.ns import CLONE_NEWNS, unshare

    unshare(CLONE_NEWNS)
    M.make_private("/", recursive=True)


def _become(plan: ResolvedApp) -> None:
    os.chroot(plan.rootfs)
    os.chdir(plan.cwd)
    os.setgroups(list(plan.creds.groups))
    os.setgid(plan.creds.gid)
    os.setuid(plan.creds.uid)


def _in_terminal_foreground() -> bool:
    """Whether this process belongs to the foreground job of its controlling terminal."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _lead_process_group() -> None:
    """Make the pod its own process group (what ``stop`` signals once the pid is gone).

    Not when the pod is the terminal's foreground job: leaving that group would put the
    app in the background, out of reach of Ctrl-C, even with stdin redirected.
    """
    if _in_terminal_foreground():
        return
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


def exec_app(pod: Pod, plan: ResolvedApp) -> None:
    """Become the app: record pid and pgid, chroot, drop to its credentials, exec."""
    pd = PodDir(pod.path)
    _lead_process_group()
    pd.write_pid(os.getpid())
    pd.write_pgid(os.getpgid(0))
    pd.record_app_started(pod.apps[0].name)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        _become(plan)
        os.execvpe(plan.argv[0], plan.argv, plan.env)
    except OSError as e:
        sys.stderr.write(f"run: cannot exec {plan.argv[0]}: {e.strerror}\n")
        os._exit(254)


def enter_app(pod: Pod, options: EnterOptions) -> None:
    """Run a command in the app's root with its environment (as root)."""
    app = pod.app(options.app)
    if app is None:
        raise FlavorError(f"pod has no app {options.app!r}")
    root = app.rootfs
    from rkt_sdk.linux.creds import resolve

    env = environment(app.name, app.runtime.app, resolve(root, "0", "0", (), app.name), terminal=True)
    _join_mount_namespace(pod)
    exe = M.resolve_in_root(root, options.command[0]) if options.command[0].startswith("/") else None
    if exe is not None and not os.path.exists(exe):
        raise FlavorError(f"{options.command[0]} not found in app {app.name!r}")
    sys.stdout.flush()
    os.chroot(root)
    os.chdir("/")
    try:
        os.execvpe(options.command[0], list(options.command), env)
    except OSError as e:
        sys.stderr.write(f"enter: cannot exec {options.command[0]}: {e.strerror}\n")
        os._exit(254)


def _join_mount_namespace(pod: Pod) -> None:
    """Join the mount namespace of the pod process (where the app's mounts are)."""
    from rkt_sdk.linux.ns import NamespaceError, enter_namespaces

    pid = PodDir(pod.path).read_pid()
    if pid is None:
        raise FlavorError(f"pod {pod.uuid} has no pid recorded: it has not started")
    try:
        enter_namespaces(pid, ("mnt",))
    except (NamespaceError, OSError) as e:
        raise FlavorError(f"pod {pod.uuid}: cannot join the mount namespace of its process {pid}: {e}") from None
