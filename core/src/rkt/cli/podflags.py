"""The flags of a pod, declared once: ``run``, ``prepare`` and ``run-prepared`` share them.

:data:`NETWORK_FLAGS` are the run-time flags of a pod's network (``--net``, ``--dns*``,
``--hosts-entry``, ``--hostname``): ``run`` and ``run-prepared`` take them and read them through
:func:`network_fields`, the one place their values become a request. ``prepare`` refuses them
(:func:`refuse_runtime_flags`): a prepared pod gets them from ``run-prepared``.

Each value has one parser: ``--net`` :func:`rkt.net.spec.parse_net_flags` (when the pod starts,
against the flavor's network modes), ``--dns*`` :func:`rkt.net.dns.dns_config_from_flags`,
``--hosts-entry`` :func:`rkt.net.dns.hosts_entries_from_flags`, ``--port``
:func:`rkt.apps.flags.port`, ``--hostname`` :func:`hostname`.
"""

from __future__ import annotations

from rkt.cli.options import Flag, bool_flag
from rkt_sdk.errors import RktError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

NETWORK_FLAGS = (
    Flag("--net", "networks: host, none, default, NAME[:K=V;...], all (a bare --net is the default network)",
         kind="list", bare="default", metavar="NETS"),
    Flag("--dns", "nameserver IPs (comma-separated), or 'host' or 'none'", kind="list", metavar="IP,..."),
    Flag("--dns-search", "DNS search domain", kind="list", metavar="DOMAIN"),
    Flag("--dns-opt", "DNS resolver option", kind="list", metavar="OPT"),
    Flag("--dns-domain", "DNS local domain", metavar="DOMAIN"),
    Flag("--hosts-entry", "/etc/hosts entries IP=HOSTNAME (comma-separated), or 'host' to copy the host's",
         kind="list", metavar="IP=HOSTNAME,..."),
    Flag("--hostname", "the pod's hostname, an RFC 1123 name (default rkt-UUID)", metavar="NAME"),
)

APP_FLAGS = (
    Flag("--exec", "override the app's executable", metavar="PATH"),
    Flag("--name", "the app's name in the pod"),
    Flag("--user", "user to run the app as (name, number or path in the image)"),
    Flag("--group", "group to run the app as"),
    Flag("--supplementary-gids", "comma-separated supplementary group ids", metavar="GID,..."),
    Flag("--working-dir", "the app's working directory", metavar="DIR"),
    Flag("--environment", "set an environment variable for this app", kind="list", metavar="NAME=VALUE"),
    Flag("--mount", "mount a pod volume into the app", kind="list", metavar="volume=NAME,target=PATH"),
    Flag("--memory", "memory limit (e.g. 64M)", metavar="SIZE"),
    Flag("--cpu", "CPU limit (e.g. 500m)", metavar="CPUS"),
    Flag("--cpu-shares", "CPU shares (relative weight)", metavar="N"),
    Flag("--caps-retain", "capabilities to keep", metavar="CAPS"),
    Flag("--caps-remove", "capabilities to drop", metavar="CAPS"),
    Flag("--seccomp", "seccomp filter: mode=retain|remove[,errno=E],SYSCALL,...", metavar="FILTER"),
    Flag("--oom-score-adj", "OOM score adjustment (-1000..1000)", metavar="N"),
    # "" when not given, so an app's --readonly-rootfs=false overrides the pod-wide one
    Flag("--readonly-rootfs", "mount the app's root read-only", kind="bool", bare="true", default=""),
    Flag("--user-annotation", "annotate the app", kind="list", metavar="K=V"),
    Flag("--user-label", "label the app", kind="list", metavar="K=V"),
    Flag("--signature", "detached signature of the image (default: IMAGE.asc beside the file)", metavar="FILE"),
)

POD_FLAGS = (
    Flag("--pod-manifest", "path to a pod manifest (no images or app flags with it)", metavar="FILE"),
    Flag("--volume", "a pod volume, e.g. data,kind=host,source=/srv,readOnly=true", kind="list",
         metavar="NAME,kind=host|empty,..."),
    Flag("--port", "forward a host port to an app port", kind="list", metavar="NAME:[HOSTIP:]HOSTPORT"),
    Flag("--set-env", "an environment variable for every app", kind="list", metavar="NAME=VALUE"),
    Flag("--set-env-file", "a file of NAME=VALUE lines for every app", kind="list", metavar="FILE"),
    bool_flag("--inherit-env", "pass rkt's own environment to the apps"),
    Flag("--stage1-name", "the stage1 flavor to run the pod with (see 'rkt flavors'); rkt's image names "
         "coreos.com/rkt/stage1-{fly,coreos,kvm}[:VERSION] name those flavors", metavar="NAME"),
    Flag("--stage1-path", "rkt's stage1 image file (stage1-fly.aci, stage1-coreos.aci, stage1-kvm.aci): "
         "the flavor of that name", metavar="PATH"),
    Flag("--stage1-url", "a URL of rkt's stage1 image file: the flavor of that name (nothing is fetched)",
         metavar="URL"),
    Flag("--stage1-from-dir", "rkt's stage1 image file name in its stage1 images directory: the flavor of "
         "that name", metavar="FILE"),
    Flag("--stage1-hash", "a stage1 image hash (not supported)", hidden=True),
    Flag("--uuid-file-save", "write the pod's UUID to this file", metavar="FILE"),
    bool_flag("--no-overlay", "copy each app's root instead of using overlayfs"),
    Flag("--pull-policy", "when to fetch images (only local images are supported)", default="new",
         choices=("new", "never", "update")),
    bool_flag("--store-only", "use only images in the store", hidden=True),
    bool_flag("--no-store", "fetch images, ignoring the store", hidden=True),
    bool_flag("--mds-register", "register the pod with the metadata service", hidden=True),
    bool_flag("--private-users", "run the pod with user namespaces", hidden=True),
)

INTERACTIVE = bool_flag("--interactive", "give the (single) app the terminal")
QUIET = bool_flag("--quiet", "print nothing but the UUID")


def pod_flags(command: str) -> tuple[Flag, ...]:
    """The pod-level flags of ``run`` or ``prepare`` (``prepare`` knows the network flags only to refuse them)."""
    if command == "run":
        return POD_FLAGS + NETWORK_FLAGS + (INTERACTIVE,)
    hidden = tuple(Flag(f.name, f.help, kind=f.kind, bare=f.bare, hidden=True) for f in NETWORK_FLAGS)
    return POD_FLAGS + hidden + (QUIET,)


def refuse_runtime_flags(ns: argparse.Namespace) -> None:
    """``prepare``'s refusal of the network flags: they would be dropped, so they are errors.

    :raises RktError: naming the first such flag given.
    """
    for f in NETWORK_FLAGS:
        if getattr(ns, f.dest, f.initial) != f.initial:
            raise RktError(f"{f.name} is a run-time flag: give it to 'rkt run-prepared', not to 'rkt prepare'")


def hostname(value: str) -> str:
    """``--hostname``: an RFC 1123 host name ("" when not given).

    :raises RktError: naming the value and what is wrong with it.
    """
    if not value:
        return ""
    from rkt.net.dns import check_hostname

    return check_hostname(value, "--hostname")


def network_fields(ns: argparse.Namespace) -> dict[str, Any]:
    """The network part of a :class:`rkt.apps.request.PodRequest` from the parsed :data:`NETWORK_FLAGS`.

    :raises RktError: a bad DNS server, hosts entry or host name, naming it.
    """
    from rkt_sdk.types import DNSConfig

    dns = DNSConfig()
    if ns.dns or ns.dns_search or ns.dns_opt or ns.dns_domain:
        from rkt.net.dns import dns_config_from_flags

        dns = dns_config_from_flags(ns.dns, ns.dns_search, ns.dns_opt, ns.dns_domain)
    entries: tuple[tuple[str, str], ...] = ()
    if ns.hosts_entry:
        from rkt.net.dns import hosts_entries_from_flags

        entries = hosts_entries_from_flags(ns.hosts_entry)
    return {"net": tuple(ns.net), "dns": dns, "hosts_entries": entries, "hostname": hostname(ns.hostname)}
