"""iptables rules of a pod, in chains named for it (``RKT-<short uuid>-...``), run through the
``iptables`` binary.

Rules are described as plain data (:class:`RuleSet`) so the pod's saved state holds exactly
what to remove: the jump rules from the built-in chains, then the pod's own chains.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from rkt.net.errors import NetworkError


def short_id(uuid: str) -> str:
    """The first 8 hex digits of a pod UUID, used in interface and chain names."""
    return uuid.replace("-", "")[:8]


@dataclass
class RuleSet:
    """Chains owned by one pod, their rules, and the jumps to them from built-in chains.

    :ivar table: ``nat`` or ``filter``.
    :ivar chains: chain name -> its rules (each rule as ``iptables`` arguments after ``-A CHAIN``).
    :ivar jumps: ``(built-in chain, rule arguments)`` pairs, each jumping to one of ``chains``.
    """

    table: str
    chains: dict[str, list[list[str]]] = field(default_factory=dict)
    jumps: list[tuple[str, list[str]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "chains": self.chains, "jumps": [[c, r] for c, r in self.jumps]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RuleSet:
        return cls(str(d["table"]), {str(k): v for k, v in d.get("chains", {}).items()},
                   [(str(c), list(r)) for c, r in d.get("jumps", [])])


def _iptables(args: list[str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("iptables") or "/usr/sbin/iptables"
    try:
        return subprocess.run([exe, "-w", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NetworkError("iptables: command not found (needed for ipMasq and --port)") from None


def apply(rs: RuleSet, what: str) -> None:
    """Create the chains, fill them, then add the jumps.

    :raises NetworkError: iptables refused a rule (the message names ``what`` and the rule).
    """
    for chain, rules in rs.chains.items():
        for args in (["-t", rs.table, "-N", chain],
                     *(["-t", rs.table, "-A", chain, *r] for r in rules)):
            p = _iptables(args)
            if p.returncode != 0:
                raise NetworkError(f"{what}: iptables {' '.join(args)}: {p.stderr.strip()}")
    for chain, rule in rs.jumps:
        args = ["-t", rs.table, "-A", chain, *rule]
        p = _iptables(args)
        if p.returncode != 0:
            raise NetworkError(f"{what}: iptables {' '.join(args)}: {p.stderr.strip()}")


def remove(rs: RuleSet) -> None:
    """Delete the jumps and the chains; whatever is already gone is skipped."""
    for chain, rule in rs.jumps:
        for _ in range(8):  # a jump added twice (by a retried setup) is deleted twice
            if _iptables(["-t", rs.table, "-D", chain, *rule]).returncode != 0:
                break
    for chain in rs.chains:
        _iptables(["-t", rs.table, "-F", chain])
        _iptables(["-t", rs.table, "-X", chain])



def masquerade(uuid: str, index: int, net: str, ip: str, subnet: str) -> RuleSet:
    """Masquerade what the pod's address sends out of its subnet (CNI ``ipMasq``)."""
    chain = f"RKT-{short_id(uuid)}-MASQ{index}"
    return RuleSet("nat", {chain: [["-d", subnet, "-j", "ACCEPT"],
                                   ["!", "-d", "224.0.0.0/4", "-j", "MASQUERADE"]]},
                   [("POSTROUTING", ["-s", f"{ip}/32", "-m", "comment", "--comment", f"rkt {uuid} {net}",
                                     "-j", chain])])


def port_forwards(uuid: str, pod_ip: str, forwards: list[tuple[str, str, int, int]]) -> list[RuleSet]:
    """Forward host ports to the pod: ``forwards`` holds ``(protocol, host IP or "", host port,
    pod port)``. Traffic from other hosts (PREROUTING) and from this host (OUTPUT, including
    127.0.0.1, whose source is masqueraded) is redirected to ``pod_ip``."""
    sid = short_id(uuid)
    dnat, snat, fwd = f"RKT-{sid}-DNAT", f"RKT-{sid}-SNAT", f"RKT-{sid}-FWD"
    comment = ["-m", "comment", "--comment", f"rkt {uuid} ports"]
    dnat_rules: list[list[str]] = []
    snat_rules: list[list[str]] = []
    fwd_rules: list[list[str]] = []
    for proto, host_ip, host_port, pod_port in forwards:
        dst = ["-d", host_ip] if host_ip else []
        dnat_rules.append(["-p", proto, *dst, "--dport", str(host_port), "-j", "DNAT",
                           "--to-destination", f"{pod_ip}:{pod_port}"])
        snat_rules.append(["-p", proto, "-s", "127.0.0.0/8", "-d", pod_ip, "--dport", str(pod_port),
                           "-j", "MASQUERADE"])
        fwd_rules.append(["-p", proto, "-d", pod_ip, "--dport", str(pod_port), "-j", "ACCEPT"])
    local = ["-m", "addrtype", "--dst-type", "LOCAL", *comment]
    return [RuleSet("nat", {dnat: dnat_rules, snat: snat_rules},
                    [("PREROUTING", [*local, "-j", dnat]), ("OUTPUT", [*local, "-j", dnat]),
                     ("POSTROUTING", [*comment, "-j", snat])]),
            RuleSet("filter", {fwd: fwd_rules}, [("FORWARD", [*comment, "-j", fwd])])]
