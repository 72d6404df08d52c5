"""The stage1 contract: every hook a flavor or a cross-cutting plugin may implement.

A **flavor** is a module registered under the ``rkt.stage1`` entry-point group; the entry
point's name is the flavor's name. stage0 loads only the flavor a pod needs, registers it
in a fresh :class:`pluggy.PluginManager` with these specs, and runs ``check_pending()``,
so a misspelled hook fails at load time. What pluggy validated is remembered: later loads
of the same, unchanged flavor code call its implementations directly, with pluggy's
calling convention (arguments by name, the first non-None result of a ``firstresult`` hook).

A flavor must implement :func:`rkt_stage1_describe`, :func:`rkt_stage1_host_check`,
:func:`rkt_stage1_run`, :func:`rkt_stage1_stop` and :func:`rkt_stage1_gc`; the others are
optional; a flavor whose capabilities say ``mutable`` implements the ``rkt_stage1_app_*``
hooks too. All stage1 hooks are ``firstresult``: exactly one flavor answers.

**Cross-cutting plugins** register under ``rkt.plugins`` and may implement the hooks at
the end of this module; any number of them are called.

Interface versions: hooks say ``versionadded``; a flavor declares the version it was
written for in :attr:`FlavorInfo.interface_version`, and stage0 drives any flavor between
:data:`rkt_sdk.MIN_INTERFACE_VERSION` and :data:`rkt_sdk.INTERFACE_VERSION`. An implementation
may take fewer arguments than its hook passes (pluggy calls it with those it names), so a
flavor written for an older version keeps loading when a hook gains an argument.

Typing: ``from rkt_sdk import hookimpl`` keeps each decorated function's type, so a flavor
type-checks under ``mypy --strict``.

**A quick test image.** An ACI is a tar (optionally gzip-compressed) holding a ``manifest``
file (an appc image manifest: ``acKind``, ``acVersion``, ``name``, ``labels`` with ``os`` and
``arch``, and an ``app`` with ``exec``, ``user``, ``group``) and a ``rootfs/`` directory.
:func:`rkt_sdk.conformance.aci.busybox_aci` writes one from the host's static busybox::

    python -c 'from pathlib import Path; from rkt_sdk.conformance.aci import busybox_aci;
               busybox_aci(Path("bb.aci"), "example.com/bb")'
    rkt --insecure-options=image run --stage1-name=NAME ./bb.aci --exec=/bin/sh -- -c 'echo hi'

(``--insecure-options=image``: the test image is not signed.)
"""

from __future__ import annotations

from rkt_sdk.markers import hookspec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from rkt_sdk.types import (
        AppOptions,
        AttachOptions,
        ConfigField,
        EnterOptions,
        FlavorInfo,
        HostCheck,
        Pod,
        PodApp,
        RunOptions,
    )

# --- describing the flavor ---------------------------------------------------------------


@hookspec(firstresult=True)
def rkt_stage1_describe() -> FlavorInfo:  # type: ignore[empty-body]
    """Describe the flavor: name, version, interface version and capabilities.

    Called whenever stage0 loads the flavor (``run``, ``enter``, ``stop``, ``gc``,
    ``rkt flavors``), before anything else. Must be cheap: no I/O, no heavy imports.

    :returns: the flavor's :class:`~rkt_sdk.types.FlavorInfo`; its ``name`` must equal the
        entry point's name.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def rkt_stage1_config_schema() -> list[ConfigField]:  # type: ignore[empty-body]
    """Declare the per-host settings the flavor accepts in ``stage1.d`` config files.

    Called when stage0 validates config (before ``run``/``enter``/``stop``/``gc``, and for
    ``rkt config`` and ``rkt flavors``). Settings not declared here are rejected, naming
    the file and the field; declared ones are type-checked and defaulted, and reach the
    flavor as :attr:`RunOptions.settings` / :attr:`EnterOptions.settings`.

    :returns: the list of :class:`~rkt_sdk.types.ConfigField`; ``[]`` if none.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def rkt_stage1_host_check(settings: Mapping[str, Any]) -> HostCheck:  # type: ignore[empty-body]
    """Say whether this host can run the flavor, and if not, why.

    Called by ``rkt flavors`` and before ``run``. Probes must be bounded in time (a few
    seconds at most) and leave nothing behind.

    :param settings: the flavor's validated per-host settings.
    :returns: a :class:`~rkt_sdk.types.HostCheck`; ``reason`` must say what to fix.

    .. versionadded:: 1
    """


# --- running pods ------------------------------------------------------------------------


@hookspec(firstresult=True)
def rkt_stage1_run(pod: Pod, options: RunOptions) -> int:  # type: ignore[empty-body]
    """Run the pod in the foreground until its apps are done.

    Called by ``rkt run`` and ``rkt run-prepared`` in the stage0 process, once the pod is
    in the ``run`` state: its directory holds the manifest, every app's rootfs is mounted
    at :attr:`PodApp.rootfs`, networks are attached (:attr:`Pod.netns`), and
    :attr:`Pod.lock_fd` holds the pod lock.

    The flavor must, before the first app starts, write the pod process's ``pid``
    (:meth:`PodDir.write_pid`) and keep :attr:`Pod.lock_fd` open in that process for the
    pod's whole life, and out of the apps' processes (see :attr:`Pod.lock_fd`). It passes the
    caller's stdin/stdout/stderr to the apps. It records each app's exit code
    (:meth:`PodDir.record_app_exited`) where it can. It may replace the stage0 process
    (``exec``) instead of returning.

    Stage0 has already written the pod's ``etc/resolv.conf`` and ``etc/hosts`` where it had
    something to impose (``--dns*``, ``--hosts-entry``, a network's DNS; see
    :class:`~rkt_sdk.types.DNSConfig`): the flavor makes each present file the app's own and
    leaves the image's files otherwise. It names the pod ``options.hostname`` (``rkt-<uuid>``
    when empty). It enforces every isolator it claims (:mod:`rkt_sdk.isolators`).

    **Exit codes.** An app that exits returns its code (0-255). An app killed by signal ``n``
    counts as ``128 + n`` (SIGKILL: 137, SIGTERM: 143), as a shell reports it; the same number is
    what :meth:`PodDir.record_app_exited` records (``os.waitstatus_to_exitcode`` gives ``-n``).

    A **mutable** pod (:attr:`Pod.mutable`, made by ``rkt app sandbox``; only for a flavor
    whose capabilities say ``mutable``) may have no apps: the flavor keeps it up until it is
    stopped, an app that exits does not end it, and apps come and go through the
    ``rkt_stage1_app_*`` hooks. The hook returns when the pod is stopped (0).

    The pod is *running* once the flavor has recorded one of its apps as started
    (:meth:`PodDir.record_app_started`). If this hook raises anything before that, stage0
    undoes the whole start: it calls :func:`rkt_stage1_gc`, tears down the networks,
    unmounts what is left under the pod directory and removes it. An exception once the
    pod is running leaves an exited pod for ``rkt gc``. (:mod:`rkt_sdk.contract`)

    :param pod: the prepared pod.
    :param options: run parameters and the flavor's settings.
    :returns: the pod's exit code: the first app that failed, else 0 (each as above).
    :raises Exception: whatever stops the pod; a :class:`~rkt_sdk.errors.RktError` is shown
        to the user as it is, anything else as a failure of the flavor naming the error. The
        flavor need not undo more than :func:`rkt_stage1_gc` would.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def rkt_stage1_enter(pod: Pod, options: EnterOptions) -> int:  # type: ignore[empty-body]
    """Run a command inside a running app's context (``rkt enter``).

    Called by ``rkt enter`` for a running pod that this flavor ran. The command gets the
    caller's stdin/stdout/stderr, the app's root, environment, and (where the flavor
    isolates) the app's namespaces, cgroup, capabilities and seccomp filter.

    :param pod: the running pod (:attr:`Pod.lock_fd` is -1: the pod's process holds the lock).
    :param options: the app and command.
    :returns: the command's exit code (or the flavor execs it).

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def rkt_stage1_stop(pod: Pod, force: bool, timeout: float, settings: Mapping[str, Any]) -> None:
    """Stop a running pod (``rkt stop``).

    Graceful: ask the apps to end (SIGTERM), and kill what is left after ``timeout`` seconds.
    With ``force``, kill at once. Returns once the request is delivered; stage0 waits for
    the pod lock to be released when the caller asked to wait.

    **One stop timeout.** A pod has one stop timeout: :attr:`RunOptions.stop_timeout` at
    ``run``, which stage0 records in the pod directory (:meth:`PodDir.read_stop_timeout`).
    ``rkt stop`` passes that same value as ``timeout``, or the ``--timeout`` the user gave, which
    stage0 first records in the pod directory in its place. So whichever process does the
    killing (this hook's, or a supervisor started at ``run`` that only knows its options) gets
    the one value: a supervisor reads :meth:`PodDir.read_stop_timeout` when it starts stopping.

    A pod whose processes live on after the rkt process that ran it was killed (a runtime
    outside the rkt process) is still stopped through this hook: see :func:`rkt_stage1_status`.

    :param pod: the running pod.
    :param force: kill without grace.
    :param timeout: seconds of grace before the kill (the pod's recorded stop timeout).
    :param settings: the flavor's validated per-host settings (as ``gc`` gets them).

    .. versionadded:: 1
    .. versionchanged:: 2 ``settings``; ``timeout`` is the pod's recorded stop timeout.
    """


@hookspec(firstresult=True)
def rkt_stage1_gc(pod_path: Path, uuid: str, settings: Mapping[str, Any]) -> None:
    """Release what the flavor made for an exited pod (``rkt gc``, ``rkt rm``).

    Called with the pod lock held by stage0, so no process of the pod holds the lock any
    more. **That is all gc may assume**: processes outside the rkt process (an outside runtime's
    container, a VM, a daemon's task) may live on when the rkt process that ran the pod was
    killed. A flavor with such processes reports them from :func:`rkt_stage1_status`
    (``"running": True``), so that gc leaves the pod alone; when gc does come (the report said
    not running, or the flavor cannot tell), the hook first kills whatever of the pod still
    runs, then releases the rest. Must unmount
    what the flavor mounted, remove cgroups, VMs, tap devices, sockets and temporary
    files it made, and be idempotent (it may run again after a crash). Stage0 afterwards
    unmounts whatever is still mounted under the pod directory, tears down networks, and
    removes the directory.

    :param pod_path: the pod directory (which may lack files if the pod never started).
    :param uuid: the pod's UUID.
    :param settings: the flavor's validated per-host settings.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def rkt_stage1_status(pod: Pod, settings: Mapping[str, Any]) -> dict[str, Any]:  # type: ignore[empty-body]
    """Extra fields for ``rkt status`` of a pod this flavor ran (e.g. a VM's domain name).

    Shown by ``rkt status`` as ``key=value`` lines after rkt's own, and by
    ``rkt status --format=json`` as the object ``"stage1_status": {key: value, ...}``.

    **The reserved key** ``"running"``: a flavor whose apps run outside the rkt process (under
    runc, a daemon, a VM manager) returns ``"running": True`` while any app of the pod still
    runs. A pod is "running" while some process holds its lock; when the rkt process holding it
    was killed but the apps live on, the lock is free and the pod would read as exited. With
    ``"running": True``, ``rkt status`` shows ``state=running`` (``exited=false``), ``rkt gc``
    leaves the pod alone, and ``rkt stop`` reaches :func:`rkt_stage1_stop`. ``False`` or no key:
    the lock decides. ``rkt list`` never loads flavors and shows the lock's answer.

    :param pod: the pod (running or exited; :attr:`Pod.lock_fd` is -1).
    :param settings: the flavor's validated per-host settings (as ``gc`` gets them).
    :returns: string keys to JSON-able values.

    .. versionadded:: 1
    .. versionchanged:: 2 ``settings``; the reserved key ``"running"``.
    """


# --- mutable pods: apps added to, started in, stopped in and removed from a running pod -----
#
# Only called for a flavor whose capabilities say ``mutable=True``, on a pod started by
# ``rkt app sandbox`` (:attr:`Pod.mutable`). Stage0 serialises them per pod (one ``rkt app``
# command at a time) and keeps the pod consistent across a crash of any ``rkt app`` command:
# an app is in the pod exactly when the pod manifest names it. What a hook made for an app
# the manifest does not name (a killed ``app add``) is released through
# :func:`rkt_stage1_app_rm` before the next command, so every app hook is idempotent.


@hookspec(firstresult=True)
def rkt_stage1_app_add(pod: Pod, app: PodApp, options: AppOptions) -> None:
    """Make ready to start an app that joins the running pod (``rkt app add``); start nothing.

    Called once stage0 has rendered the app's root filesystem (mounted at
    :attr:`PodApp.rootfs`) and recorded its image, and before the pod manifest names the
    app: ``pod`` is the pod as it is, ``app`` the new one (its stdin/stdout/stderr modes in
    :func:`rkt_sdk.appio.io_modes`). The flavor checks the app (user, isolators...) and
    raises for what it cannot run, naming the input; stage0 then undoes the add.

    :param pod: the running pod, without the new app.
    :param app: the app to add.
    :param options: the pod's run-time options and the flavor's settings.
    :raises rkt_sdk.errors.RktError: the app cannot run in this pod.

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_start(pod: Pod, app: str) -> None:
    """Start an added (or exited) app of the running pod (``rkt app start``).

    The app runs as at ``run``: in the pod's namespaces and cgroup, with its own mount
    namespace and root. The flavor records its start (:meth:`PodDir.record_app_started`,
    :meth:`PodDir.record_app_pid`) and, when it ends, its exit code
    (:meth:`PodDir.record_app_exited`). An app that exits never ends the pod. Returns once
    the app's process runs (or failed to start: then raises).

    :param pod: the running pod; it names ``app``.
    :param app: the app's name.

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_stop(pod: Pod, app: str, force: bool, timeout: float) -> int | None:
    """Stop a running app of the pod (``rkt app stop``); the pod and its other apps go on.

    SIGTERM to the app, SIGKILL to what is left of it after ``timeout`` seconds (at once
    with ``force``). Returns once the app's processes are gone and its exit is recorded.

    :param pod: the running pod.
    :param app: the app's name.
    :param force: kill without grace.
    :param timeout: seconds of grace before the kill.
    :returns: the app's exit code (``None`` if it was not running).

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_rm(pod: Pod, app: str, options: AppOptions) -> None:
    """Release what the flavor holds for an app leaving the pod (``rkt app rm``).

    Kills the app if it still runs, removes its cgroup, sockets and buffers. Stage0 then
    unmounts and removes the app's root and records. Idempotent: also called for an app a
    killed ``rkt app add`` left half-made, which may never have reached
    :func:`rkt_stage1_app_add`.

    :param pod: the running pod (which may or may not name ``app`` any more).
    :param app: the app's name.
    :param options: the pod's run-time options and the flavor's settings.

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_status(pod: Pod, app: str) -> dict[str, Any]:  # type: ignore[empty-body]
    """Extra fields for ``rkt app status`` of one app (e.g. its cgroup).

    :param pod: the running pod.
    :param app: the app's name.
    :returns: string keys to JSON-able values.

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_attach(pod: Pod, app: str, options: AttachOptions) -> int:  # type: ignore[empty-body]
    """Connect the caller's stdin/stdout/stderr to a running app's ``stream`` or ``tty`` (``rkt attach``).

    Runs in the ``rkt attach`` process until the app ends or the caller detaches. Output the
    app wrote while nobody was attached (up to a bounded buffer) comes first; several
    attaches may be served at once. :func:`rkt_sdk.attach.session` is a ready client.

    :param pod: the running pod.
    :param app: the app's name.
    :param options: whether to forward stdin, the detach keys, the flavor's settings.
    :returns: the app's exit code if it ended, 0 if the caller detached.
    :raises rkt_sdk.errors.RktError: the app has no stream or terminal to attach to.

    .. versionadded:: 3
    """


@hookspec(firstresult=True)
def rkt_stage1_app_reopen_log(pod: Pod, app: str) -> None:
    """Open an app's ``log``-mode file again by its name (after a log rotator moved it).

    :param pod: the running pod.
    :param app: the app's name.

    .. versionadded:: 3
    """


# --- cross-cutting plugins (group ``rkt.plugins``) ---------------------------------------


@hookspec
def rkt_pod_event(event: str, uuid: str, pod_path: Path) -> None:
    """Observe a pod's lifecycle (any number of plugins are called; return values ignored).

    :param event: ``"prepared"``, ``"started"``, ``"exited"`` (when ``rkt run`` sees the pod
        end) or ``"removed"`` (at gc or rm).
    :param uuid: the pod's UUID.
    :param pod_path: the pod directory (gone already for ``"removed"``).

    .. versionadded:: 1
    """
