"""No import cycles between the modules of core, the SDK and the flavors.

The ``layers`` contract in ``.importlinter`` keeps core's packages one way; this keeps every
module graph (inside a package too) free of cycles, so a shared piece is moved down or passed
in rather than imported back. Imports made only for type checking count: they are still a
module that needs the other to be read.
"""

from __future__ import annotations

import grimp

PACKAGES = ("rkt", "rkt_sdk", "rkt_stage1_fly", "rkt_stage1_coreos", "rkt_stage1_kvm", "rkt_stage1_qemu")

#: Cycles kept on purpose, each a set of modules:
#: - ``rkt_sdk.appc`` re-exports the pod types of ``rkt_sdk.podmanifest`` (the public SDK names
#:   flavors outside this repository import), which builds on appc's image types;
#: - the ``rkt.store`` package's :class:`Store` facade hands its work to modules that take a
#:   ``Store`` (type only).
ALLOWED = [
    {"rkt_sdk.appc", "rkt_sdk.podmanifest"},
    {"rkt.store", "rkt.store.oci_images", "rkt.store.output"},
]


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """The groups of two or more modules that import each other (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.add(m)
                    if m == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph(*PACKAGES)
    cycles = [sorted(g) for g in strongly_connected(graph) if g not in ALLOWED]
    assert cycles == []


def test_the_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert strongly_connected(graph) == [{"p.a", "p.b", "p.c"}]
