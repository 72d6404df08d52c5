"""The ``--net`` flag: which network mode and which named networks a pod asks for.

Syntax as rkt's: ``--net=name1[:K=V;K2=V2],name2``, repeatable; ``host``, ``none`` and ``all``
are keywords. No flag, or an empty value, means the ``default`` network. Names are checked
against the network configurations only at setup (:mod:`rkt.net.conf`).
"""

from __future__ import annotations

import re

from rkt.net.errors import NetworkError
from rkt_sdk.record import Record

#: keywords of ``--net`` that are not network names
KEYWORDS = ("host", "none", "all")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_ARG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NetRequest(Record):
    """One network asked for: its name and its ``CNI_ARGS``-style arguments, in order.

    The name ``all`` stands for every configured network.
    """

    name: str
    args: tuple[tuple[str, str], ...] = ()

    @property
    def args_text(self) -> str:
        """The arguments as rkt shows and passes them: ``K=V;K2=V2``."""
        return ";".join(f"{k}={v}" for k, v in self.args)


class NetSpec(Record):
    """The pod's network mode (``host``, ``none`` or ``contained``) and, when contained, its requests."""

    mode: str
    requests: tuple[NetRequest, ...] = ()

    def request(self, name: str) -> NetRequest | None:
        """The request of that name, if any."""
        for r in self.requests:
            if r.name == name:
                return r
        return None


DEFAULT_SPEC = NetSpec("contained", (NetRequest("default"),))


def _parse_item(item: str) -> NetRequest:
    name, sep, rest = item.partition(":")
    if not NAME_RE.match(name):
        raise NetworkError(f"--net: invalid network name {name!r}")
    if not sep:
        return NetRequest(name)
    if name in KEYWORDS:
        raise NetworkError(f"--net: {name!r} takes no arguments, got {item!r}")
    args: list[tuple[str, str]] = []
    for part in rest.split(";"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not _ARG_KEY.match(key):
            raise NetworkError(f"--net: argument {part!r} of network {name!r} is not KEY=VALUE")
        if any(k == key for k, _ in args):
            raise NetworkError(f"--net: argument {key!r} given twice for network {name!r}")
        args.append((key, value))
    if not args:
        raise NetworkError(f"--net: network {name!r} has an empty argument list after ':'")
    return NetRequest(name, tuple(args))


def parse_net_flags(values: list[str]) -> NetSpec:
    """Parse every ``--net`` value given, in order, into a :class:`NetSpec`.

    ``[]`` or only empty values give the ``default`` network. ``host`` and ``none`` must stand
    alone. A network named twice (in one value or across values) is an error.

    :raises NetworkError: bad syntax, a duplicate, or a keyword mixed with networks.
    """
    requests: list[NetRequest] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            req = _parse_item(item)
            if any(r.name == req.name for r in requests):
                raise NetworkError(f"--net: network {req.name!r} specified more than once")
            requests.append(req)
    if not requests:
        return DEFAULT_SPEC
    for mode in ("host", "none"):
        if any(r.name == mode for r in requests):
            if len(requests) > 1:
                others = ",".join(r.name for r in requests if r.name != mode)
                raise NetworkError(f"--net={mode} cannot be combined with other networks ({others})")
            return NetSpec(mode)
    return NetSpec("contained", tuple(requests))
