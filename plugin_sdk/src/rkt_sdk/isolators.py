"""Every isolator stage0 hands a flavor: its name, JSON shape, the flag that makes it, and where it sits.

An isolator reaches the flavor in the pod manifest (:attr:`Pod.manifest`): on an app
(``pod.manifest.apps[i].app.isolators``, which is also :attr:`PodApp.runtime` ``.app.isolators``)
or on the pod (``pod.manifest.isolators``). Each is an :class:`rkt_sdk.appc.Isolator` with a
``name`` and a JSON ``value``. An app's isolators are its image manifest's, with the ``rkt run``
flags of that app replacing an isolator of the same name.

A flavor lists the names it enforces in :attr:`Capabilities.isolators`; a name there must be
one of :data:`KNOWN` (the conformance kit fails a flavor that claims anything else, such as a
misspelling). Before ``run``, stage0 compares what the pod asks with what the flavor claims:

- an isolator a **flag** or the **pod manifest** asked for, that the flavor does not claim:
  an error (exit 254, nothing made), naming the flag and the flavor;
- an isolator that came **from the image manifest** unchanged, that the flavor does not claim:
  a warning on stderr, and the pod runs without it (as rkt ignored image isolators its stage1
  did not know).

A flavor that claims an isolator must enforce it in every pod, or fail ``run`` with a
:class:`~rkt_sdk.errors.FlavorError` saying why; the conformance kit checks each claim by
observing it from inside an app.

Every name stage0 hands over (all sit on an **app**; see below for the pod), its value's JSON
shape, and the ``rkt run`` flag that makes it:

- ``resource/memory``: ``{"limit": "64M"}`` (bytes, K/M/G/T suffixes); ``--memory=64M``.
- ``resource/cpu``: ``{"limit": "500m"}`` (millicores, or whole CPUs ``"2"``); ``--cpu=500m``.
- ``os/linux/cpu-shares``: ``512`` (a bare number, at least 2); ``--cpu-shares=512``.
- ``os/linux/oom-score-adj``: ``100`` (a bare number, -1000..1000); ``--oom-score-adj=100``.
- ``os/linux/capabilities-retain-set``: ``{"set": ["CAP_CHOWN", ...]}``; ``--caps-retain=CAP_CHOWN,...``.
- ``os/linux/capabilities-remove-set``: ``{"set": ["CAP_NET_RAW", ...]}``; ``--caps-remove=CAP_NET_RAW,...``.
- ``os/linux/seccomp-retain-set``: ``{"set": ["read", ...], "errno": "EPERM"}``;
  ``--seccomp=mode=retain,errno=EPERM,read,...``.
- ``os/linux/seccomp-remove-set``: ``{"set": ["uname", ...], "errno": "ENOSYS"}``;
  ``--seccomp=mode=remove,uname,...``.
- ``os/linux/no-new-privileges``: ``true``; no flag (an image manifest or ``--pod-manifest`` only).

``errno`` is optional for seccomp (absent: the call kills the process, as rkt did). Pod-level
isolators (``pod.manifest.isolators``) come only from a ``--pod-manifest`` the user wrote, with
the same names and shapes; they bound the pod as a whole.
"""

from __future__ import annotations

from rkt_sdk.record import Record


class IsolatorSpec(Record):
    """One isolator name stage0 may hand over.

    :ivar name: the isolator's name.
    :ivar example: a value of the isolator's JSON shape.
    :ivar flag: the ``rkt run`` flag that makes it, or ``""`` when only a manifest can.
    """

    name: str
    example: object
    flag: str = ""


#: Every isolator stage0 hands over, by name.
SPECS: dict[str, IsolatorSpec] = {s.name: s for s in (
    IsolatorSpec("resource/memory", {"limit": "64M"}, "--memory"),
    IsolatorSpec("resource/cpu", {"limit": "500m"}, "--cpu"),
    IsolatorSpec("os/linux/cpu-shares", 512, "--cpu-shares"),
    IsolatorSpec("os/linux/oom-score-adj", 100, "--oom-score-adj"),
    IsolatorSpec("os/linux/capabilities-retain-set", {"set": ["CAP_CHOWN"]}, "--caps-retain"),
    IsolatorSpec("os/linux/capabilities-remove-set", {"set": ["CAP_NET_RAW"]}, "--caps-remove"),
    IsolatorSpec("os/linux/seccomp-retain-set", {"set": ["read", "write"], "errno": "EPERM"}, "--seccomp"),
    IsolatorSpec("os/linux/seccomp-remove-set", {"set": ["uname"], "errno": "ENOSYS"}, "--seccomp"),
    IsolatorSpec("os/linux/no-new-privileges", True),
)}

#: The names a flavor may claim in :attr:`rkt_sdk.types.Capabilities.isolators`.
KNOWN: frozenset[str] = frozenset(SPECS)


def described(name: str) -> str:
    """How a message names the isolator: its flag when it has one (``--memory (resource/memory)``)."""
    spec = SPECS.get(name)
    return f"{spec.flag} ({name})" if spec and spec.flag else f"isolator {name}"
