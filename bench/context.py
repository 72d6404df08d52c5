"""What every suite gets: the workspace, how many repetitions, the flavors, shared fixtures."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.flavors import VM_FLAVORS, FlavorStatus, discover
from bench.pods import PodFactory
from bench.timing import Subject
from bench.workspace import PYTHON, Workspace

#: repetitions per kind of measurement: (full run, --quick)
REPS = {"fast": (15, 3), "slow": (5, 2), "heavy": (3, 1)}


@dataclass
class Context:
    """Shared state of one bench run."""

    ws: Workspace
    quick: bool = False
    extra_flavors: tuple[str, ...] = ()
    _flavors: dict[str, FlavorStatus] | None = None
    _resources: ExitStack = field(default_factory=ExitStack)
    _libvirt: bool | None = None
    _factory: PodFactory | None = None
    notes: list[str] = field(default_factory=list)

    def reps(self, kind: str) -> int:
        """How many timed repetitions for a measurement of this ``kind`` (fast, slow, heavy)."""
        full, quick = REPS[kind]
        return quick if self.quick else full

    @property
    def flavors(self) -> dict[str, FlavorStatus]:
        if self._flavors is None:
            self._flavors = discover(self.ws, self.extra_flavors)
        return self._flavors

    def container_flavors(self) -> list[FlavorStatus]:
        """Flavors that do not boot a VM, installed or not (the ones not installed are reported)."""
        return [f for n, f in self.flavors.items() if n not in VM_FLAVORS]

    def vm_flavors(self) -> list[FlavorStatus]:
        return [f for n, f in self.flavors.items() if n in VM_FLAVORS]

    def first_runnable(self) -> str:
        """The flavor used where any will do (fly when it runs)."""
        for f in self.container_flavors():
            if f.runnable:
                return f.name
        return "fly"

    @property
    def pods(self) -> PodFactory:
        if self._factory is None:
            self._factory = PodFactory(self.ws, self.first_runnable())
        return self._factory

    def floor(self, key: str) -> Subject:
        """The interpreter's floor: ``python3 -c pass`` with the interpreter rkt runs on."""
        return Subject(key, "python3 -c pass (interpreter floor)", [PYTHON, "-c", "pass"], env=self.ws.env)

    def libvirt(self) -> bool:
        """Make sure libvirt's daemons answer now, starting them if needed (stopped by :meth:`close`).

        Checked again on every call: daemons someone else started may have been stopped since.
        """
        try:
            from tests.support.libvirt import libvirt_daemons, reachable

            if self._libvirt is None or not reachable():
                self._libvirt = bool(self._resources.enter_context(libvirt_daemons()))
        except Exception as e:  # no libvirt-python, no daemons: the kvm rows say why
            self.say(f"libvirt: {type(e).__name__}: {e}")
            self._libvirt = False
        return bool(self._libvirt)

    def close(self) -> None:
        """Stop what the bench started (libvirt daemons)."""
        self._resources.close()

    def say(self, msg: str) -> None:
        sys.stderr.write(f"bench: {msg}\n")
        sys.stderr.flush()
