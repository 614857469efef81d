"""A small generic DAG: dependency order and cycles printed the way a person reads them.

Used for segment references (`in_segment`) and model dependencies. Orders are
deterministic (ties broken by node order), so the same project always loads the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from segment_pipeline.errors import CycleError

Node = TypeVar("Node", bound=Hashable)


class DAG(Generic[Node]):
    """Nodes and their upstream dependencies. Edges to unknown nodes are ignored."""

    def __init__(self) -> None:
        self._upstream: dict[Node, list[Node]] = {}

    def add(self, node: Node, upstream: Iterable[Node] = ()) -> None:
        """Add `node`, depending on every node of `upstream` (added or not yet)."""
        self._upstream.setdefault(node, [])
        for dependency in upstream:
            if dependency not in self._upstream[node]:
                self._upstream[node].append(dependency)

    @property
    def nodes(self) -> list[Node]:
        """Every node, in the order added."""
        return list(self._upstream)

    def upstream(self, node: Node) -> list[Node]:
        """The known direct dependencies of `node`."""
        return [dep for dep in self._upstream.get(node, []) if dep in self._upstream]

    def cycles(self) -> list[list[Node]]:
        """Every cycle a depth-first walk meets, each as `[a, b, a]`, none repeated."""
        found: list[list[Node]] = []
        seen_sets: set[frozenset[Node]] = set()
        state: dict[Node, int] = {}  # 1 = on the current path, 2 = finished
        path: list[Node] = []

        def visit(node: Node) -> None:
            state[node] = 1
            path.append(node)
            for dependency in self.upstream(node):
                if state.get(dependency) == 1:
                    cycle = [*path[path.index(dependency) :], dependency]
                    key = frozenset(cycle)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        found.append(cycle)
                elif dependency not in state:
                    visit(dependency)
            path.pop()
            state[node] = 2

        for node in self._upstream:
            if node not in state:
                visit(node)
        return found

    def sorted(self) -> list[Node]:
        """Dependencies before dependents; ties keep the order nodes were added.

        Raises:
            CycleError: naming the first cycle found.
        """
        cycles = self.cycles()
        if cycles:
            raise CycleError(list(cycles[0]))
        order: list[Node] = []
        done: set[Node] = set()

        def place(node: Node) -> None:
            if node in done:
                return
            done.add(node)
            for dependency in self.upstream(node):
                place(dependency)
            order.append(node)

        for node in self._upstream:
            place(node)
        return order
