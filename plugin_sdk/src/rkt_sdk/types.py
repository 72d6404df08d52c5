"""Data types stage0 hands to a flavor, and those a flavor hands back.

All of them are frozen records (:class:`rkt_sdk.record.Record`): a flavor reads them and never
mutates them; :func:`rkt_sdk.record.replace` makes a changed copy.
"""

from __future__ import annotations

from types import MappingProxyType

from rkt_sdk.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from rkt_sdk.appc import PodManifest, RuntimeApp

#: The settings of a flavor that declares none (immutable: defaults are shared).
NO_SETTINGS: Mapping[str, Any] = MappingProxyType({})


class Capabilities(Record):
    """What a flavor supports; stage0 refuses requests outside of it before calling ``run``.

    :ivar multi_app: the flavor runs pods of more than one app.
    :ivar isolators: isolator names enforced (``resource/memory``, ``os/linux/capabilities-retain-set`` ...),
        each one of :data:`rkt_sdk.isolators.KNOWN` (their JSON shapes and flags are listed there).
        Default: none. Stage0 refuses a pod whose flags or pod manifest ask for an isolator not
        listed (exit 254) and warns for one that only its image brought.
    :ivar network_modes: the ``--net`` modes accepted: ``"host"``, ``"none"``, ``"contained"``.
    :ivar network_attachment: how a contained pod reaches its networks: ``"netns"`` (stage0
        makes a network namespace with one interface per network and the flavor joins it) or
        ``"tap"`` (stage0 makes one tap device per network for a virtual machine), or
        ``"host"`` (the flavor only ever uses the host's network).
    :ivar mutable: the flavor supports ``app add/start/stop/rm`` on a running pod.
    :ivar enter: the flavor supports ``rkt enter``.
    :ivar virtualized: each pod is a virtual machine.
    :ivar control_socket: (with ``mutable``) the pod's supervisor serves ``rkt app start`` on
        the app control socket, so stage0 need not load the flavor for it; see
        :mod:`rkt_sdk.appcontrol` for the protocol.

    Defaults (a flavor that says nothing): ``multi_app=False``, ``isolators=frozenset()``,
    ``network_modes=frozenset({"host"})``, ``network_attachment="netns"``, ``mutable=False``,
    ``enter=True``, ``virtualized=False``, ``control_socket=False``. Stage0 refuses, with exit
    254 and before anything is made, a second app, a ``--net`` mode or an isolator the flavor does not claim.
    """

    multi_app: bool = False
    isolators: frozenset[str] = frozenset()
    network_modes: frozenset[str] = frozenset({"host"})
    network_attachment: str = "netns"
    mutable: bool = False
    enter: bool = True
    virtualized: bool = False
    control_socket: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"multiApp": self.multi_app, "isolators": sorted(self.isolators),
                "networkModes": sorted(self.network_modes), "networkAttachment": self.network_attachment,
                "mutable": self.mutable, "enter": self.enter, "virtualized": self.virtualized,
                "controlSocket": self.control_socket}


class FlavorInfo(Record):
    """A flavor's description of itself, answered by ``rkt_stage1_describe``.

    :ivar name: flavor name; must equal the ``rkt.stage1`` entry point's name.
    :ivar version: the flavor's own version (usually its distribution's version).
    :ivar interface_version: the :data:`rkt_sdk.INTERFACE_VERSION` the flavor was written for.
    :ivar summary: one line for ``rkt flavors``.
    :ivar capabilities: what the flavor supports.

    Defaults: ``summary=""``, ``capabilities=Capabilities()``.
    """

    name: str
    version: str
    interface_version: int
    summary: str = ""
    capabilities: Capabilities = Capabilities()


class HostCheck(Record):
    """Whether this host can run the flavor, answered by ``rkt_stage1_host_check``.

    :ivar ok: the flavor can run pods here.
    :ivar reason: when not ``ok``, why not, in words a user can act on.
    :ivar warnings: things that work but degrade (e.g. "KVM unusable, falling back to TCG");
        stage0 prints each on stderr as ``rkt: warning: ...``.

    Defaults: ``reason=""``, ``warnings=()``.
    """

    ok: bool
    reason: str = ""
    warnings: tuple[str, ...] = ()


class ConfigField(Record):
    """One per-host setting a flavor accepts in its ``stage1.d`` config.

    :ivar name: key in the flavor's settings object.
    :ivar type: one of ``"str"``, ``"int"``, ``"bool"``, ``"path"``, ``"list"``, ``"choice"``.
    :ivar default: value used when no config file sets it.
    :ivar description: one line for ``rkt config`` and the docs.
    :ivar choices: allowed values when ``type`` is ``"choice"``.

    Default: ``choices=()``.
    """

    name: str
    type: str
    default: Any
    description: str
    choices: tuple[str, ...] = ()


class NetworkAttachment(Record):
    """One network stage0 attached to a pod.

    :ivar name: network name (``default``, ``default-restricted``, a ``net.d`` name).
    :ivar ifname: interface name inside the pod (``eth0``...) or the tap device's name.
    :ivar ip4: the pod's IPv4 address on it, without prefix length, or ``""``.
    :ivar prefix_len: prefix length of ``ip4``.
    :ivar gateway: the gateway address, or ``""``.
    :ivar mac: hardware address the pod's interface must use (set for taps), or ``""``.
    :ivar routes: routes as ``(destination CIDR, gateway)`` pairs.
    :ivar dns: nameservers the network's result gave.

    Defaults: ``ip4=""``, ``prefix_len=0``, ``gateway=""``, ``mac=""``, ``routes=()``, ``dns=()``.
    """

    name: str
    ifname: str
    ip4: str = ""
    prefix_len: int = 0
    gateway: str = ""
    mac: str = ""
    routes: tuple[tuple[str, str], ...] = ()
    dns: tuple[str, ...] = ()


class PodApp(Record):
    """One app of the pod as rendered by stage0.

    :ivar name: the app's name in the pod manifest.
    :ivar rootfs: the app's root filesystem, already mounted (overlay) or copied by stage0.
    :ivar runtime: the app's entry of the pod manifest, with every CLI override applied.
    """

    name: str
    rootfs: Path
    runtime: RuntimeApp


class Pod(Record):
    """A pod as stage0 hands it to a flavor.

    :ivar uuid: the pod's UUID (36 characters).
    :ivar path: the pod directory; see :class:`rkt_sdk.poddir.PodDir` for its files.
    :ivar manifest: the pod manifest (also at ``path/"pod"``).
    :ivar apps: the rendered apps, in manifest order.
    :ivar lock_fd: the file descriptor holding the pod's lock, or -1. During ``run`` it is
        open and not close-on-exec: the pod is "running" exactly as long as some process
        holds it, so a flavor that execs or forks must keep it open in the pod's longest-lived
        process. **Keep it out of the apps**: the process that waits for the apps (the rkt
        process, a supervisor, a shim beside an outside runtime such as ``runc run``) holds it,
        and each app's process closes it (``os.close(lock_fd)`` after fork, or
        ``os.set_inheritable(lock_fd, False)`` before exec; with runc, leave it out of
        ``--preserve-fds``), or an app's child could keep the pod "running" forever. If that
        holder dies while the apps live on (the rkt process was killed and the apps run under
        an outside runtime), the lock is free: report the apps through
        :func:`~rkt_sdk.hookspecs.rkt_stage1_status` (``"running": True``), and let
        :func:`~rkt_sdk.hookspecs.rkt_stage1_gc` kill what is left.
    :ivar netns: path of the pod's network namespace made by stage0, or ``None``. Stage0
        makes one for ``--net=none`` too (loopback only, up) and for contained networks, when
        the flavor's attachment is ``netns``; ``None`` for ``--net=host`` and for ``tap``
        attachment (a VM has its own network stack; ``--net=none`` then means no tap).
    :ivar networks: the networks attached, in order (empty for ``--net=host`` and ``--net=none``).

    Defaults: ``lock_fd=-1``, ``netns=None``, ``networks=()``.
    """

    uuid: str
    path: Path
    manifest: PodManifest
    apps: tuple[PodApp, ...]
    lock_fd: int = -1
    netns: Path | None = None
    networks: tuple[NetworkAttachment, ...] = ()

    def app(self, name: str) -> PodApp | None:
        """The app of that name, if present."""
        for a in self.apps:
            if a.name == name:
                return a
        return None

    @property
    def mutable(self) -> bool:
        """Whether apps may be added to and removed from the running pod (``rkt app sandbox``)."""
        from rkt_sdk.appio import MUTABLE_ANNOTATION

        return any(kv.name == MUTABLE_ANNOTATION and kv.value == "true" for kv in self.manifest.annotations)


class DNSConfig(Record):
    """Resolver settings for the pod, after rkt's precedence rules.

    :ivar mode: ``"flags"`` (use the lists below), ``"host"`` (copy the host's
        resolv.conf), ``"none"`` (leave the image's file), or ``"default"`` (the
        networks' DNS result if any, else the image's own file, as rkt did).
    :ivar servers: nameservers (``--dns``), in order.
    :ivar search: search domains (``--dns-search``).
    :ivar options: resolver options (``--dns-opt``).
    :ivar domain: the local domain (``--dns-domain``), or ``""``.

    Stage0 applies these itself: it writes the pod's ``etc/resolv.conf`` (see
    :class:`rkt_sdk.poddir.PodDir`) for ``flags``, for ``host`` (a copy of the host's file) and for
    ``default`` when a network gave nameservers, and writes nothing for ``none``. A flavor's only
    duty is to make that file, when present, the app's ``/etc/resolv.conf`` (bind mount or
    copy), and to leave the image's own file otherwise; it needs to read this record only when
    it writes a guest's files itself (a VM with its own stack).

    Defaults: ``mode="default"``, the lists empty, ``domain=""``.
    """

    mode: str = "default"
    servers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    domain: str = ""


class RunOptions(Record):
    """How to run the pod: everything from the command line and config that is not in the manifest.

    :ivar debug: print debugging information to stderr.
    :ivar net: the network mode: ``"host"``, ``"none"`` or ``"contained"``.
    :ivar interactive: the single app gets the caller's terminal.
    :ivar hostname: the pod's hostname (``rkt-<uuid>`` unless set).
    :ivar dns: resolver settings.
    :ivar hosts_entries: extra ``/etc/hosts`` lines as ``(ip, hostname)`` pairs; an entry
        ``("host", "")`` means copy the host's ``/etc/hosts``. Stage0 has already written them
        (and the pod's own name) into the pod's ``etc/hosts``; the flavor makes that file, when
        present, the app's ``/etc/hosts``, as for :attr:`dns`.
    :ivar insecure_options: ``--insecure-options`` values (``image``, ``paths``,
        ``capabilities``, ``seccomp``, ``ondisk``, ``all-run`` ...).
    :ivar settings: this flavor's validated per-host settings, by field name.
    :ivar stop_timeout: seconds between SIGTERM and SIGKILL when stopping apps: the pod's one
        stop timeout. Stage0 records it in the pod directory (:meth:`PodDir.read_stop_timeout`)
        before ``run``; ``rkt stop --timeout`` replaces the record, and the stop hook gets the
        recorded value. A killer started at ``run`` reads the record when it stops the pod.

    Defaults: ``debug=False``, ``net="host"``, ``interactive=False``, ``hostname=""`` (no
    ``--hostname``: the flavor names the pod ``rkt-<uuid>``), ``dns=DNSConfig()``, ``hosts_entries=()``,
    ``insecure_options=frozenset()``, ``settings={}`` (the schema's defaults are filled in by
    stage0), ``stop_timeout=10.0``.
    """

    debug: bool = False
    net: str = "host"
    interactive: bool = False
    hostname: str = ""
    dns: DNSConfig = DNSConfig()
    hosts_entries: tuple[tuple[str, str], ...] = ()
    insecure_options: frozenset[str] = frozenset()
    settings: Mapping[str, Any] = NO_SETTINGS
    stop_timeout: float = 10.0


class EnterOptions(Record):
    """What ``rkt enter`` asks of the flavor.

    :ivar app: the app whose context to enter (resolved by stage0).
    :ivar command: the command and its arguments (``["/bin/sh"]`` by default).
    :ivar interactive: stdin is a terminal.
    :ivar settings: this flavor's validated per-host settings.

    The command runs as the app's user and group (its ``user``, ``group`` and supplementary
    gids, resolved in the app's root as for the app), with the app's environment, working
    directory, capabilities and seccomp filter where the flavor applies them: ``rkt enter``
    gives no more privilege than the app has. Defaults: ``interactive=False``, ``settings={}``.
    """

    app: str
    command: tuple[str, ...]
    interactive: bool = False
    settings: Mapping[str, Any] = NO_SETTINGS


class AppOptions(Record):
    """What the ``rkt_stage1_app_*`` hooks get besides the pod and the app.

    :ivar debug: print debugging information to stderr.
    :ivar insecure_options: ``--insecure-options`` values of the command.
    :ivar settings: this flavor's validated per-host settings.
    """

    debug: bool = False
    insecure_options: frozenset[str] = frozenset()
    settings: Mapping[str, Any] = NO_SETTINGS


class AttachOptions(Record):
    """What ``rkt attach`` asks of the flavor.

    :ivar stdin: forward the caller's stdin to the app.
    :ivar detach_keys: the key sequence that detaches (see :mod:`rkt_sdk.attach`).
    :ivar settings: this flavor's validated per-host settings.
    """

    stdin: bool = True
    detach_keys: bytes = b"\x10\x11"
    settings: Mapping[str, Any] = NO_SETTINGS
