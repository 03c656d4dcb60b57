"""Run-time side of agent sets: transfers that follow the count, and per-agent state that follows its agent.

:class:`AgentTransfer` stands in for a :class:`~msmcore.transfer.Transfer` on a
connection with agent ports. Each :meth:`AgentTransfer.apply` looks at the port
arrays: when their number of agents (or the arrays themselves) changed since the
last exchange it rebuilds the PETSc objects (Vecs over the new arrays, the
Scatter); a deposit/interpolation matrix is rebuilt as well when the agents'
positions or volumes moved. Otherwise it is the same single Scatter or MatMult.

:class:`AgentTracker` keeps, for every component that follows another's agent
set, the membership it was last told about; after a component advances, each
follower of a set whose membership changed is given the :class:`~msmcore.agents.AgentChange`
(:meth:`msmcore.Component.agents_changed`) before anything else uses it. It also
checks that every agent port array has one row per agent, and puts the agent
sets into (and back from) their owners' state snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from petsc4py import PETSc

from msmcore.agent_links import AgentRoute
from msmcore.agents import AgentSet
from msmcore.component import Component
from msmcore.errors import CouplingError
from msmcore.field import Field
from msmcore.mapping.agents import deposit_matrix, interpolation_matrix, radii_of
from msmcore.ports import agent_spec
from msmcore.transfer import Transfer

if TYPE_CHECKING:
    from msmcore.coupling import Connection

__all__ = ["AgentTracker", "AgentTransfer", "AGENT_STATE_KEY"]

#: Key of the agent sets in a snapshot of a component that owns some.
AGENT_STATE_KEY = "msm_agent_sets"


def checked_array(comp: Component, port: str, where: str) -> np.ndarray:
    """``comp.port_array(port)``, checked to have one row per agent of its set."""
    array = comp.port_array(port)
    agents = comp.port_agents(port)
    if agents is not None and (array.ndim == 0 or array.shape[0] != agents.count):
        raise CouplingError(f"{where}: port '{port}' is an agent port of agent set '{agents.name}' with "
                            f"{agents.count} agents, but its array has shape {array.shape}; it must have one row "
                            "per agent, in the order of the set's ids", component=comp.name)
    return array


def _csr_to_petsc(csr: Any) -> PETSc.Mat:
    csr = csr.tocsr()
    csr.sort_indices()
    it = PETSc.IntType
    mat = PETSc.Mat().createAIJ(csr.shape, csr=(csr.indptr.astype(it), csr.indices.astype(it),
                                                csr.data.astype(PETSc.ScalarType)), comm=PETSc.COMM_SELF)
    mat.assemble()
    return mat


class AgentTransfer:
    """The transfer of one connection with agent ports (rebuilt when its agents change).

    Parameters
    ----------
    conn, route
        The connection and how it moves data (:class:`~msmcore.agent_links.AgentRoute`).
    components
        The coupling's components by name.
    active
        Whether this rank runs the connection's components (all on one rank);
        elsewhere :meth:`apply` does nothing.
    """

    def __init__(self, conn: Connection, route: AgentRoute, components: dict[str, Component],
                 active: bool = True) -> None:
        self.conn, self.route, self.components, self.active = conn, route, components, active
        #: Local positions this transfer writes: all of them.
        self.written: np.ndarray | None = None
        self._inner: Transfer | None = None
        self._fields: list[Field] = []
        self._key: tuple[Any, ...] | None = None
        self._geometry: list[np.ndarray] = []
        #: How many times the PETSc objects were (re)built (for tests and the profile).
        self.rebuilds = 0

    @property
    def destination(self) -> Field:
        """The target's current field (built by the last :meth:`apply`)."""
        if self._inner is None:
            self.apply()
        assert self._inner is not None
        return self._inner.destination

    def _array(self, name: str, port: str) -> np.ndarray:
        return checked_array(self.components[name], port, f"connection {self.conn}")

    def apply(self) -> None:
        """Move the values (rebuilding the PETSc objects first if the agents changed)."""
        if not self.active:
            return
        c, route = self.conn, self.route
        src_comp, dst_comp = self.components[c.source], self.components[c.target]
        src = self._array(c.source, c.source_port)
        dst = self._array(c.target, c.target_port)
        key = (id(src), src.shape, id(dst), dst.shape)
        geometry: list[np.ndarray] = []
        if route.kind != "identity":
            assert route.positions is not None
            geometry.append(self._array(*route.positions))
            if route.volumes is not None:
                geometry.append(self._array(*route.volumes))
        moved = len(geometry) != len(self._geometry) or any(
            g.shape != h.shape or not np.array_equal(g, h) for g, h in zip(geometry, self._geometry, strict=False))
        if key != self._key or moved:
            self._rebuild(src_comp, dst_comp, src, dst, geometry)
            self._key = key
            self._geometry = [g.copy() for g in geometry]
        assert self._inner is not None
        self._inner.apply()

    def _rebuild(self, src_comp: Component, dst_comp: Component, src: np.ndarray, dst: np.ndarray,
                 geometry: list[np.ndarray]) -> None:
        self.destroy()
        c, route = self.conn, self.route
        sspec, dspec = src_comp.port(c.source_port).spec, dst_comp.port(c.target_port).spec
        if src_comp.port(c.source_port).agents is not None:
            sspec = agent_spec(sspec, src.shape[0])
        if dst_comp.port(c.target_port).agents is not None:
            dspec = agent_spec(dspec, dst.shape[0])
        sf = Field(src, sspec, f"{c.source}.{c.source_port}")
        df = Field(dst, dspec, f"{c.target}.{c.target_port}")
        self._fields = [sf, df]
        if route.kind == "identity":
            self._inner = Transfer(sf, df, c.factor, select=(c.source_component, None))
        else:
            mat = self._matrix(sspec if route.kind == "interpolate" else dspec, geometry)
            if c.source_component is not None and sspec.components > 1:
                mat = _pick_columns(mat, sspec.components, c.source_component)
            pm = _csr_to_petsc(mat)
            self._inner = Transfer(sf, df, c.factor, mat=pm)
            pm.destroy()
        self.rebuilds += 1

    def _matrix(self, grid: Any, geometry: list[np.ndarray]) -> Any:
        route = self.route
        owner = self.components[route.agents[0]]
        agents = owner.agent_sets[route.agents[1]]
        axes = [np.asarray(a, dtype=np.float64) for a in grid.coords.values()]
        positions = geometry[0].reshape(agents.count, agents.dim)
        if route.length_scale != 1.0:
            positions = positions * route.length_scale
        if route.kind == "interpolate":
            return interpolation_matrix(axes, positions)
        radii = (radii_of(geometry[1] * route.volume_scale, agents.dim) if route.volumes is not None
                 else np.full(agents.count, route.radius, dtype=np.float64))
        try:
            return deposit_matrix(axes, positions, radii, quantity=route.quantity, samples=route.samples,
                                  ids=agents.ids)
        except CouplingError as exc:
            raise CouplingError(f"connection {self.conn}: {exc}") from None

    def destroy(self) -> None:
        """Release the PETSc objects (they are rebuilt on the next :meth:`apply`)."""
        if self._inner is not None:
            self._inner.destroy()
            self._inner = None
        for f in self._fields:
            f.destroy()
        self._fields = []
        self._key = None

    def __repr__(self) -> str:
        return f"AgentTransfer({self.conn}, {self.route.kind})"


def _pick_columns(mat: Any, components: int, component: int) -> Any:
    """A per-point matrix placed on one value-component of a multi-component source."""
    import scipy.sparse as sp

    coo = sp.coo_matrix(mat)
    return sp.csr_matrix((coo.data, (coo.row, coo.col * components + component)),
                         shape=(mat.shape[0], mat.shape[1] * components))


class AgentTracker:
    """What the runner keeps about agent sets during a run (see the module notes)."""

    def __init__(self, components: dict[str, Component], bindings: dict[tuple[str, str], tuple[str, str]],
                 member: dict[str, bool], call: Callable[..., Any]) -> None:
        self.components = components
        self.bindings = bindings
        self.member = member
        self._call = call
        #: (follower, name) -> (set, version, ids, next id) it was last told about.
        self.seen: dict[tuple[str, str], tuple[AgentSet, int, np.ndarray, int]] = {}
        self.active = bool(bindings) or any(c.agent_sets for c in components.values())

    def reset(self) -> None:
        """Before the components initialise: fresh agent sets, followers bound to them."""
        self.seen.clear()
        for comp in self.components.values():
            comp._reset_agents()
            comp._agent_bound.clear()
        for (name, group), (owner, set_name) in self.bindings.items():
            self.components[name]._agent_bound[group] = self.components[owner].agent_sets[set_name]
        self.active = bool(self.bindings) or any(c.agent_sets for c in self.components.values())

    def initialized(self, name: str) -> None:
        """``name`` initialised: the memberships it sized its per-agent state on."""
        for (follower, group), _ in self.bindings.items():
            if follower == name:
                s = self.components[name]._agent_bound[group]
                self.seen[(follower, group)] = (s, s.version, s.ids.copy(), s.next_id)

    def settle(self) -> None:
        """Tell every follower of a set whose membership changed (collective-free: all on one rank)."""
        for (follower, group), (s, version, ids, nxt) in list(self.seen.items()):
            if s.version == version or not self.member[follower]:
                continue
            change = s.change_since(ids, nxt)
            self._call(follower, f"agents_changed('{group}')", self.components[follower].agents_changed, group,
                       change)
            self.seen[(follower, group)] = (s, s.version, s.ids.copy(), s.next_id)

    def forget_changes(self) -> None:
        """After a restore: every follower's state is that of the restored memberships."""
        for key, (s, _, _, _) in list(self.seen.items()):
            self.seen[key] = (s, s.version, s.ids.copy(), s.next_id)

    def check(self, name: str, where: str) -> None:
        """Every agent port array of ``name`` has one row per agent."""
        comp = self.components[name]
        for pname, port in comp.ports.items():
            if port.agents is not None and comp.port_agents(pname) is not None:
                checked_array(comp, pname, where)

    @staticmethod
    def wrap(comp: Component, state: Any) -> Any:
        """A component's snapshot with its agent sets (unchanged for a component that owns none)."""
        if not comp.agent_sets:
            return state
        return {AGENT_STATE_KEY: {n: s.state() for n, s in comp.agent_sets.items()}, "state": state}

    @staticmethod
    def unwrap(comp: Component, state: Any) -> Any:
        """Restore the agent sets of a :meth:`wrap` snapshot; returns the component's own part."""
        if not comp.agent_sets:
            return state
        for n, s in state[AGENT_STATE_KEY].items():
            comp.agent_sets[n].set_state(s)
        return state["state"]
