"""Explicit coupling: each window once, serial (Gauss–Seidel) or parallel (Jacobi)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from msmcore.errors import CouplingError
from msmcore.schemes.base import Scheme, check_order, check_window, default_window

if TYPE_CHECKING:
    from msmcore.coupling import Coupling
    from msmcore.runner import Runner

__all__ = ["Serial", "Parallel", "component_order"]

logger = logging.getLogger(__name__)


def component_order(coupling: Coupling, order: Sequence[str] | None) -> list[str]:
    """Gauss–Seidel order: ``order`` if given, else a topological order of the graph.

    Raises
    ------
    CouplingError
        When ``order`` names unknown or misses components, or when the graph has a
        cycle and no ``order`` says which component goes first.
    """
    names = list(coupling.components)
    if order is not None:
        if sorted(order) != sorted(names):
            raise CouplingError(f"order={list(order)} must name every component exactly once: {names}")
        return list(order)
    indegree = {n: 0 for n in names}
    edges = {(c.source, c.target) for c in coupling.connections if c.source != c.target}
    for _, t in edges:
        indegree[t] += 1
    ready = [n for n in names if indegree[n] == 0]
    result: list[str] = []
    while ready:
        n = ready.pop(0)
        result.append(n)
        for s, t in sorted(edges, key=lambda e: names.index(e[1])):
            if s == n:
                indegree[t] -= 1
                if indegree[t] == 0:
                    ready.append(t)
    if len(result) < len(names):
        cycle = _find_cycle([n for n in names if n not in result], edges)
        raise CouplingError(
            "the connections form a cycle " + " -> ".join(cycle)
            + " that a serial scheme cannot order by itself; pass order=[...] to say which component "
            "advances first (it then reads the others' outputs from the previous window), or use "
            "Parallel()"
        )
    return result


def _find_cycle(nodes: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """A cycle among ``nodes`` (the components a topological sort left over).

    Every left-over node has a predecessor among them, so walking back along
    incoming edges must repeat a node: the walk from there is a cycle.
    """
    inside = set(nodes)
    path = [nodes[0]]
    while True:
        prev = next(s for s, t in sorted(edges) if t == path[-1] and s in inside)
        if prev in path:
            cycle = list(reversed(path[path.index(prev):]))  # forward along the edges
            first = min(range(len(cycle)), key=lambda i: nodes.index(cycle[i]))  # from the first added
            cycle = cycle[first:] + cycle[:first]
            return [*cycle, cycle[0]]
        path.append(prev)


class Serial(Scheme):
    """Serial explicit coupling (Gauss–Seidel): components advance one after another.

    In each window a component first receives the newest outputs of its sources —
    from this window for sources earlier in the order, from the previous one
    otherwise — then advances to the window's end, sub-cycling with its own step.

    Parameters
    ----------
    window
        Coupling window; default the largest component time step.
    order
        Order of the components; default a topological order of the connections.
    """

    def __init__(self, window: float | None = None, order: Sequence[str] | None = None) -> None:
        self.window = check_window(window, "Serial(window=...)")
        self.order = check_order(order, "Serial(order=...)")

    def validate(self, coupling: Coupling) -> None:
        component_order(coupling, self.order)

    def run(self, runner: Runner) -> None:
        order = component_order(runner.coupling, self.order)
        window = self.window_length(runner.coupling)
        for t_end in runner.windows(window):
            for name in order:
                runner.deliver(name)
                runner.advance(name, t_end)
            runner.sync(t_end)

    def window_length(self, coupling: Coupling) -> float:
        return self.window or default_window(coupling)

    def __repr__(self) -> str:
        return f"Serial(window={self.window}, order={self.order})"


class Parallel(Scheme):
    """Parallel explicit coupling (Jacobi): all components start each window from the same data.

    Parameters
    ----------
    window
        Coupling window; default the largest component time step.
    """

    def __init__(self, window: float | None = None) -> None:
        self.window = check_window(window, "Parallel(window=...)")

    def validate(self, coupling: Coupling) -> None:
        """Any graph runs: every component reads the previous window's outputs."""

    def run(self, runner: Runner) -> None:
        window = self.window_length(runner.coupling)
        names = list(runner.components)
        for t_end in runner.windows(window):
            for name in names:
                runner.deliver(name)
            for name in names:
                runner.advance(name, t_end)
            runner.sync(t_end)

    def window_length(self, coupling: Coupling) -> float:
        return self.window or default_window(coupling)

    def __repr__(self) -> str:
        return f"Parallel(window={self.window})"
