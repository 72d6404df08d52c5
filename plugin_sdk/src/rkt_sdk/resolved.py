"""One app of a pod, resolved into what a flavor executes; the same rules for every flavor.

:func:`resolve_app` turns a :class:`~rkt_sdk.types.PodApp` into a :class:`ResolvedApp`:
its argv, environment, credentials, working directory and mounts. It reads the image's own
files (``/etc/passwd``, ``/etc/group``) and checks host volume paths, but makes nothing;
:func:`make_volume_dirs` is the one place that makes the directories of ``empty`` volumes.
Every check fails before a flavor mounts or starts anything, with an error naming the app and
the input (:class:`~rkt_sdk.errors.FlavorError`, or :class:`~rkt_sdk.linux.creds.CredentialsError`
for a user or group the image does not have).

**argv**: the ``exec`` of the app in the pod manifest; stage0 has already put there the
image's exec (or ``--exec``) followed by the app's arguments.

**Environment**, from lowest to highest precedence:

1. rkt's defaults: ``PATH`` (:data:`DEFAULT_PATH`), ``HOME`` (the user's home in the image's
   ``/etc/passwd``, ``/`` when it has none), ``USER`` and ``LOGNAME`` (when the image names the
   user), ``SHELL=/bin/sh``, ``container=rkt``, and ``TERM`` from the caller's environment when
   the app shares the caller's terminal;
2. the app's ``environment`` in the pod manifest (stage0 has merged it already, last wins:
   ``--inherit-env``, the image's, ``--set-env-file``, ``--set-env``, the app's ``--environment``);
3. ``AC_APP_NAME``, always the app's name (rkt provides it; an app cannot set it).

**Credentials**: user and group (names, numbers or a path whose owner to take) looked up in the
image's own files, never the host's; supplementary gids are the manifest's plus the groups of the
image's ``/etc/group`` that list the user (see :mod:`rkt_sdk.linux.creds`).

**Working directory**: the app's ``workingDirectory``, ``/`` when unset.

**Mounts**: one per entry of the app's ``mounts`` in the pod manifest (stage0 puts there each
``--mount``, and the image's mount points that a pod volume of the same name fills). The source is
the host path of a ``host`` volume, or the pod's directory of an ``empty`` volume
(:func:`empty_volume_dir`). Whether a mount is read-only follows rkt and appc: the volume's
``readOnly``, when the pod manifest sets it (``--volume ...,readOnly=true|false``), decides;
otherwise the ``readOnly`` of the image's mount point *named like the volume* decides; otherwise
the mount is writable. Where the volume is mounted (the mount point's path or a ``--mount``
target) does not matter:

=================  ===========================================  ==========
volume readOnly    image mount point of the volume's name       mounted
=================  ===========================================  ==========
true               any, or none                                 read-only
false              any, or none                                 writable
unset              ``readOnly: true``                           read-only
unset              ``readOnly: false``, or no such mount point  writable
=================  ===========================================  ==========
"""

from __future__ import annotations

import os

from rkt_sdk.errors import FlavorError
from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from rkt_sdk.appc import App, Volume
    from rkt_sdk.linux.creds import Credentials
    from rkt_sdk.types import Pod, PodApp

#: The ``PATH`` an app gets unless its environment sets one.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class AppMount(Record):
    """A pod volume as one app sees it.

    :ivar volume: the pod volume mounted.
    :ivar source: the host path to bind: a ``host`` volume's source, or an ``empty`` volume's directory.
    :ivar target: the absolute path in the app's root.
    :ivar read_only: mount read-only (see the module doc for the rule).
    :ivar recursive: bind the mounts below ``source`` too.
    """

    volume: Volume
    source: str
    target: str
    read_only: bool
    recursive: bool = True


class ResolvedApp(Record):
    """What a flavor executes for one app (see the module doc for each rule).

    :ivar name: the app's name in the pod.
    :ivar rootfs: the app's root filesystem on the host.
    :ivar argv: the command and its arguments.
    :ivar env: the complete environment.
    :ivar creds: uid, gid, supplementary gids, home and user name.
    :ivar cwd: the working directory inside the app.
    :ivar mounts: the app's volumes, in pod manifest order.
    :ivar read_only_rootfs: the pod manifest asks for a read-only root filesystem.
    """

    name: str
    rootfs: Path
    argv: tuple[str, ...]
    env: dict[str, str]
    creds: Credentials
    cwd: str
    mounts: tuple[AppMount, ...] = ()
    read_only_rootfs: bool = False


def environment(name: str, app: App, creds: Credentials | None, terminal: bool = False) -> dict[str, str]:
    """The environment of app ``name`` (its section ``app``) run as ``creds``.

    :param creds: the app's credentials; ``None`` leaves ``HOME``, ``USER``, ``LOGNAME`` and
        ``SHELL`` to the app's own environment.
    :param terminal: the app shares the caller's terminal (it then gets the caller's ``TERM``).
    """
    env = {"PATH": DEFAULT_PATH}
    if creds is not None:
        env["HOME"] = creds.home or "/"
        if creds.user_name:
            env["USER"] = env["LOGNAME"] = creds.user_name
        env["SHELL"] = "/bin/sh"
    env["container"] = "rkt"
    if terminal:
        term = os.environ.get("TERM")
        if term:
            env["TERM"] = term
    for kv in app.environment:
        env[kv.name] = kv.value
    env["AC_APP_NAME"] = name
    return env


def mount_read_only(volume: Volume, app: App) -> bool:
    """Whether ``volume`` is mounted read-only in ``app`` (the rule of the module doc)."""
    if volume.read_only is not None:
        return volume.read_only
    return any(mp.read_only for mp in app.mount_points if mp.name == volume.name)


def empty_volume_dir(pod_path: Path, name: str) -> Path:
    """Where the directory of the ``empty`` volume ``name`` lives (shared by the pod's apps)."""
    return pod_path / "stage1-data" / "volumes" / name


def _mounts(pod: Pod, pa: PodApp, where: str) -> tuple[AppMount, ...]:
    out = []
    app = pa.runtime.app
    for m in pa.runtime.mounts:
        vol = pod.manifest.volume(m.volume)
        if vol is None:
            raise FlavorError(f"{where}: mount of unknown volume {m.volume!r}")
        if vol.kind == "host":
            if not os.path.exists(vol.source):
                raise FlavorError(f"{where}: volume {vol.name!r}: host path {vol.source} does not exist")
            source, recursive = vol.source, vol.recursive
        else:
            try:
                int(vol.mode, 8)
            except ValueError:
                raise FlavorError(f"{where}: volume {vol.name!r}: bad mode {vol.mode!r}") from None
            source, recursive = str(empty_volume_dir(pod.path, vol.name)), True
        out.append(AppMount(vol, source, m.path, mount_read_only(vol, app), recursive))
    return tuple(out)


def resolve_app(pod: Pod, pa: PodApp, terminal: bool = False) -> ResolvedApp:
    """Resolve app ``pa`` of ``pod`` (see the module doc); makes nothing.

    :param terminal: the app shares the caller's terminal (see :func:`environment`).
    :raises CredentialsError: its user or group is not in the image.
    :raises FlavorError: the app has no exec, or a volume it mounts is unknown, has a missing
        host path or a bad mode.
    """
    from rkt_sdk.linux.creds import resolve

    where = f"app {pa.name!r}"
    app = pa.runtime.app
    if not app.exec:
        raise FlavorError(f"{where}: no exec given (the image has no app section and no --exec)")
    creds = resolve(pa.rootfs, app.user, app.group, app.supplementary_gids, pa.name)
    return ResolvedApp(pa.name, pa.rootfs, app.exec, environment(pa.name, app, creds, terminal), creds,
                       app.working_directory or "/", _mounts(pod, pa, where), pa.runtime.read_only_rootfs)


def make_volume_dirs(mounts: Iterable[AppMount]) -> None:
    """Make the directory of every ``empty`` volume among ``mounts`` that does not exist yet,
    with the volume's mode, uid and gid (apps sharing the volume share the directory)."""
    for m in mounts:
        v = m.volume
        if v.kind != "empty" or os.path.isdir(m.source):
            continue
        os.makedirs(m.source)
        os.chmod(m.source, int(v.mode, 8))
        os.chown(m.source, v.uid, v.gid)
