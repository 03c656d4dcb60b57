"""The component protocol: what a solver implements to take part in a coupling.

A component is one small class::

    class Decay(msm.Component):
        '''Exponential decay du/dt = -k u in every cell (forward Euler).'''

        k = msm.Setting(float, default=1.0, minimum=0.0, units="1/s")
        size = msm.Setting(int, default=1, minimum=1)
        dt = msm.Setting(float, default=1e-3, minimum=0.0)

        state_attributes = ()                     # the port arrays are the whole state

        def declare_ports(self):
            return [msm.Port.input("u_in", self.size, required=False),
                    msm.Port.output("u_out", self.size)]

        def initialize(self):
            self.u = self.port_array("u_out")     # the output port *is* the state
            self.u[:] = 1.0

        def step(self, dt):
            self.u *= 1.0 - self.k * dt

Lifecycle, driven by a coupling scheme:

1. ``Component(**settings)`` - settings are converted and validated;
2. :meth:`Component.declare_ports` - ports with their field descriptions;
3. :meth:`Component.initialize` - allocate state, set initial conditions;
4. repeatedly: new data is written into an input port's array (every
   connection into it) and :meth:`Component.receive` is called once with the
   port's name (:meth:`Component.delivered` says which values were written
   when connections feed only part of it); then
   :meth:`Component.advance` to a time (by default sub-cycling over
   :meth:`Component.step` with the ``dt`` setting); then outputs are read from
   output port arrays (which must be current after ``initialize`` and after
   every ``advance``);
5. :meth:`Component.save_state` / :meth:`Component.restore_state` around
   repeated windows (implicit coupling, checkpoints): the state is what the
   class declares in :attr:`Component.state_attributes` (plus port arrays and
   ``t``), or what its own pair of methods keeps;
6. :meth:`Component.finalize`. A coupling may run again: ``initialize`` is
   then called again after ``finalize`` and must start afresh.

Port arrays belong to the component: :meth:`Component.port_array` returns the
same NumPy array every call, and the coupling wraps it (a PETSc ``Vec`` over
the same memory) without copying. A component may override
:meth:`Component.port_array` to expose arrays it already owns.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, ClassVar

import numpy as np

from msmcore.agents import AgentChange, AgentSet
from msmcore.errors import ConfigurationError, CouplingError
from msmcore.ports import Direction, Port
from msmcore.settings import Setting
from msmcore.timeline import substeps

__all__ = ["Component", "substeps"]

logger = logging.getLogger(__name__)


class Component:
    """Base class of every solver component.

    Parameters
    ----------
    name
        Instance name in a coupling (used in messages); defaults to the class name.
    **settings
        Values for the class's :class:`~msmcore.settings.Setting` attributes.
    """

    #: Component key, set by whoever registers the class (informational).
    key: ClassVar[str | None] = None

    #: Names of the attributes holding the component's state besides its port
    #: arrays and ``t``, saved and restored by the default :meth:`save_state` /
    #: :meth:`restore_state`. ``None`` (the default) means *not declared*: then
    #: the component must implement that pair itself to be used where states are
    #: needed (implicit coupling, checkpoints). ``()`` says the port arrays and
    #: ``t`` are the whole state.
    state_attributes: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        self.name = name or type(self).__name__
        self.t = 0.0
        #: mpi4py communicator of the ranks running this component, set by the
        #: coupling before :meth:`initialize`; ``None`` means serial (``COMM_SELF``).
        self.comm: Any = None
        specs = self.setting_specs()
        unknown = sorted(set(settings) - set(specs))
        if unknown:
            known = ", ".join(s.describe() for s in specs.values()) or "none"
            raise ConfigurationError(
                f"component '{self.name}' ({type(self).__name__}) has no setting(s) "
                f"{', '.join(repr(u) for u in unknown)}; its settings are: {known}"
            )
        values: dict[str, Any] = {}
        for sname, spec in specs.items():
            if sname in settings:
                values[sname] = spec.convert(settings[sname], f"component '{self.name}'")
            elif spec.required:
                raise ConfigurationError(
                    f"component '{self.name}' needs setting '{sname}' ({spec.describe()})"
                )
            else:
                values[sname] = copy.copy(spec.default)
        self.__dict__["_settings"] = values
        self._ports: dict[str, Port] | None = None
        self._arrays: dict[str, np.ndarray] = {}
        #: Masks of the values the coupling writes into partly fed input ports (see :meth:`delivered`).
        self._delivered: dict[str, np.ndarray] = {}
        self._agent_sets: dict[str, AgentSet] | None = None
        #: Agent sets of other components this one follows, by the name its ports give (set by the coupling).
        self._agent_bound: dict[str, AgentSet] = {}
        #: Per default-allocated agent port: (set, version, ids, next id) its rows follow.
        self._agent_seen: dict[str, tuple[AgentSet, int, np.ndarray, int]] = {}

    # -- description -------------------------------------------------------
    @classmethod
    def setting_specs(cls) -> dict[str, Setting[Any]]:
        """All settings the class declares (including inherited ones)."""
        specs: dict[str, Setting[Any]] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Setting):
                    specs[attr] = value
        return specs

    @property
    def settings(self) -> dict[str, Any]:
        """The validated settings, by name (a copy)."""
        return dict(self.__dict__["_settings"])

    def declare_ports(self) -> list[Port]:
        """Return the component's ports. Override; may depend on settings."""
        return []

    @property
    def ports(self) -> dict[str, Port]:
        """Ports by name (from :meth:`declare_ports`, evaluated once)."""
        if self._ports is None:
            from collections.abc import Iterable

            where = f"component '{self.name}' ({type(self).__name__})"
            declared = self.declare_ports()
            if isinstance(declared, (str, bytes, Port)) or not isinstance(declared, Iterable):
                raise ConfigurationError(
                    f"{where}: declare_ports() must return a list of msmcore.Port, got "
                    f"{type(declared).__name__}; end it with e.g. return [msm.Port.output('u_out', 10)]"
                )
            ports: dict[str, Port] = {}
            for i, port in enumerate(declared):
                if not isinstance(port, Port):
                    raise ConfigurationError(
                        f"{where}: declare_ports() item {i} is a {type(port).__name__}, not an msmcore.Port; "
                        "build ports with msm.Port.input(...) and msm.Port.output(...)"
                    )
                if port.name in ports:
                    raise ConfigurationError(f"component '{self.name}' declares port '{port.name}' twice")
                ports[port.name] = port
            self._ports = ports
        return self._ports

    def port(self, name: str) -> Port:
        """The port ``name``; a clear error lists the ports when there is none."""
        try:
            return self.ports[name]
        except KeyError:
            have = ", ".join(f"{p.name} ({p.direction.value})" for p in self.ports.values()) or "none"
            raise CouplingError(
                f"component '{self.name}' has no port '{name}'; its ports are: {have}"
            ) from None

    # -- agent sets (dynamic ports) -----------------------------------------------
    def declare_agent_sets(self) -> list[AgentSet]:
        """Return the agent sets this component owns (override); called afresh for every run.

        Ports declared with ``agents="<name>"`` have one point per agent of the
        set of that name. A port naming a set the component does not own
        *follows* the agents connected into it (e.g. one reaction network per
        cell of another component).
        """
        return []

    @property
    def agent_sets(self) -> dict[str, AgentSet]:
        """The agent sets this component owns, by name (from :meth:`declare_agent_sets`)."""
        if self._agent_sets is None:
            declared = self.declare_agent_sets()
            sets: dict[str, AgentSet] = {}
            for s in declared:
                if not isinstance(s, AgentSet):
                    raise ConfigurationError(f"component '{self.name}': declare_agent_sets() must return "
                                             f"msmcore.AgentSet objects, got {type(s).__name__}")
                if s.name in sets:
                    raise ConfigurationError(f"component '{self.name}' declares agent set '{s.name}' twice")
                sets[s.name] = s
            self._agent_sets = sets
        return self._agent_sets

    def agent_set(self, name: str) -> AgentSet:
        """The agent set ``name``: one this component owns, or the one its ports named ``name`` follow.

        Raises
        ------
        CouplingError
            No such set (a followed set is known once connected, from the run's start).
        """
        own = self.agent_sets.get(name)
        if own is not None:
            return own
        bound = self._agent_bound.get(name)
        if bound is None:
            raise CouplingError(f"component '{self.name}' has no agent set '{name}' (it owns "
                                f"{sorted(self.agent_sets) or 'none'} and follows {sorted(self._agent_bound) or 'none'}"
                                "; a followed set is known once the run starts)")
        return bound

    def port_agents(self, name: str) -> AgentSet | None:
        """The agent set whose agents are port ``name``'s points (``None``: a fixed-size port or unconnected)."""
        group = self.port(name).agents
        if group is None:
            return None
        return self.agent_sets.get(group) or self._agent_bound.get(group)

    def agents_changed(self, name: str, change: AgentChange) -> None:
        """The followed agent set ``name`` changed membership (called before the component's next use).

        Override to carry per-agent state that is not a port array (e.g.
        ``change.carry(self.state, "split")``); arrays of agent ports allocated
        by the default :meth:`port_array` follow by themselves (copied to daughters).
        """

    def set_agent_array(self, name: str, array: np.ndarray) -> np.ndarray:
        """Make ``array`` the array of agent port ``name`` (one row per current agent, in id order).

        For a component that lays out per-agent arrays itself when its agents
        change (e.g. splitting some values between daughters, see
        :meth:`AgentChange.carry`); the default :meth:`port_array` returns it
        from now on. Returns the array as stored (C-contiguous, the port's dtype).

        Raises
        ------
        CouplingError
            ``name`` is not an agent port, or ``array`` has not one row per agent.
        """
        port = self.port(name)
        agents = self.port_agents(name)
        spec = port.spec
        shape = None if agents is None else ((agents.count,) if spec.components == 1 else
                                             (agents.count, spec.components))
        stored = np.ascontiguousarray(array, dtype=spec.dtype)
        if agents is None or stored.shape != shape:
            raise CouplingError(f"component '{self.name}': set_agent_array('{name}') needs an agent port and an "
                                f"array of shape {shape} (one row per agent), got {np.shape(array)}")
        self._arrays[name] = stored
        self._agent_seen[name] = (agents, agents.version, agents.ids.copy(), agents.next_id)
        return stored

    def _reset_agents(self) -> None:
        """A fresh start of the agent sets and the agent port arrays (before ``initialize``)."""
        self._agent_sets = None
        self._agent_seen.clear()
        for pname, port in self.ports.items():
            if port.agents is not None:
                self._arrays.pop(pname, None)

    def _agent_array(self, name: str, agents: AgentSet | None) -> np.ndarray:
        spec = self.port(name).spec
        array = self._arrays.get(name)
        seen = self._agent_seen.get(name)
        tail = () if spec.components == 1 else (spec.components,)
        if agents is None:  # an unconnected follower: no agents
            if array is None:
                array = self._arrays[name] = np.zeros((0, *tail), dtype=spec.dtype)
            return array
        if array is not None and seen is not None and seen[0] is agents and seen[1] == agents.version:
            return array
        if array is None or seen is None or seen[0] is not agents or array.shape[0] != seen[2].size:
            array = np.zeros((agents.count, *tail), dtype=spec.dtype)
        else:
            array = agents.change_since(seen[2], seen[3]).carry(array, "copy")
        self._arrays[name] = array
        self._agent_seen[name] = (agents, agents.version, agents.ids.copy(), agents.next_id)
        return array

    def port_indices(self, name: str) -> np.ndarray:
        """Flat indices into the global port array of the values this rank holds.

        Indices are C-order over ``spec.array_shape`` (the components axis
        last), listed in the order of ``port_array(name).reshape(-1)``. The
        default: a serial component (``comm`` is ``None`` or has one rank) holds
        everything; on a larger ``comm`` its rank 0 holds everything and the
        others nothing (their ``port_array`` is empty). A component distributed
        over its ranks overrides this and :meth:`port_array` together.
        """
        spec = self.port(name).spec
        if self.port(name).agents is not None:
            return np.arange(self.port_array(name).size, dtype=np.int64)
        array = self._arrays.get(name)
        if array is not None:  # the layout the array was allocated with (it outlives the run's comm)
            return np.arange(spec.size, dtype=np.int64) if array.size else np.zeros(0, dtype=np.int64)
        if self._holds_everything():
            return np.arange(spec.size, dtype=np.int64)
        return np.zeros(0, dtype=np.int64)

    def _holds_everything(self) -> bool:
        return self.comm is None or self.comm.Get_size() == 1 or self.comm.Get_rank() == 0

    def port_array(self, name: str) -> np.ndarray:
        """The array behind port ``name``: allocated once (zeros), then the same object.

        On a rank of a multi-rank ``comm`` other than 0 the default array is
        empty (see :meth:`port_indices`).
        """
        if self.port(name).agents is not None:
            return self._agent_array(name, self.port_agents(name))
        array = self._arrays.get(name)
        if array is None:
            spec = self.port(name).spec
            if self._holds_everything():
                array = np.zeros(spec.array_shape, dtype=spec.dtype)
            else:
                array = np.zeros(0, dtype=spec.dtype)
            self._arrays[name] = array
        return array

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        """Arrays of the input ports, by name."""
        return {n: self.port_array(n) for n, p in self.ports.items() if p.direction is Direction.IN}

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        """Arrays of the output ports, by name."""
        return {n: self.port_array(n) for n, p in self.ports.items() if p.direction is Direction.OUT}

    # -- lifecycle -----------------------------------------------------------
    def initialize(self) -> None:
        """Allocate state and set initial conditions (outputs must be valid after this)."""

    def receive(self, port: str) -> None:
        """New data has just been written into input port ``port``'s array.

        The default does nothing: the component reads the array when it
        advances. Override to react at once, e.g. to take a received state
        as the new initial condition (the micro side of a macro–micro coupling).
        """

    def step(self, dt: float) -> None:
        """Advance the state by one step of length ``dt``. Override, or override :meth:`advance`."""
        raise NotImplementedError(
            f"component '{self.name}' ({type(self).__name__}) implements neither step() nor advance()"
        )

    def time_step(self) -> float | None:
        """The component's own step: by default its ``dt`` setting.

        ``None`` says the component has no fixed step (it overrides
        :meth:`advance` and adapts its own steps); a scheme then takes its
        window from the other components or from ``window=``. Errors raised
        here are errors of the component, reported with its name.
        """
        dt = self.__dict__["_settings"].get("dt")
        if dt is None or dt <= 0:
            if type(self).advance is not Component.advance:
                return None
            raise ConfigurationError(
                f"component '{self.name}' needs a positive 'dt' setting or its own time_step()/advance()"
            )
        return float(dt)

    def _step_length(self) -> float:
        dt = self.time_step()
        if dt is None or not dt > 0:
            raise ConfigurationError(
                f"component '{self.name}' ({type(self).__name__}) has no fixed time step (time_step() gave "
                f"{dt!r}), but one is needed to sub-cycle it; give it a 'dt'"
            )
        return float(dt)

    def advance(self, t_end: float) -> None:
        """Advance from ``self.t`` to ``t_end`` by sub-cycling :meth:`step`.

        When the span is an integer multiple of :meth:`time_step` up to
        round-off (relative 1e-9), that many steps of exactly ``dt`` are taken,
        so a coupled run repeats a stand-alone loop bit for bit; otherwise the
        steps are shrunk evenly to land on ``t_end``. ``self.t`` is ``t_end``
        afterwards.
        """
        h, n = substeps(self.t, t_end, self._step_length())
        t0 = self.t
        for i in range(1, n + 1):
            self.step(h)
            self.t = t_end if i == n else t0 + i * h

    # -- state ---------------------------------------------------------------
    @classmethod
    def declares_state(cls) -> bool:
        """Whether the class says what its state is.

        It does when it lists :attr:`state_attributes` (an empty tuple: the
        port arrays and ``t`` are the whole state) or overrides both
        :meth:`save_state` and :meth:`restore_state`. Schemes that repeat
        windows (implicit coupling) and checkpoints refuse, before step 1, a
        component that does not.
        """
        own_pair = cls.save_state is not Component.save_state and cls.restore_state is not Component.restore_state
        return cls.state_attributes is not None or own_pair

    def save_state(self) -> Any:
        """Return a snapshot from which :meth:`restore_state` can resume.

        The default snapshot holds ``t``, a copy of every port array and a
        deep copy of each attribute named in :attr:`state_attributes`;
        a component with state elsewhere (PETSc objects, a solver library's
        context) overrides this and :meth:`restore_state` together.

        Raises
        ------
        ConfigurationError
            The class declares no state (see :meth:`declares_state`).
        """
        names = self._declared_state("save_state")
        missing = [n for n in names if not hasattr(self, n)]
        if missing:
            raise ConfigurationError(
                f"component '{self.name}' ({type(self).__name__}) lists {missing} in state_attributes, "
                "but has no such attribute(s) after initialize(); set them in initialize()"
            )
        return {
            "t": self.t,
            "ports": {k: v.copy() for k, v in self._arrays.items()},
            "attributes": {n: copy.deepcopy(getattr(self, n)) for n in names},
        }

    def restore_state(self, state: Any) -> None:
        """Resume from a snapshot of :meth:`save_state`.

        Port arrays and array attributes of unchanged shape are refilled in
        place (views of them stay valid); other attributes get a copy of the
        saved value.
        """
        self._declared_state("restore_state")
        try:
            ports, attributes, t = state["ports"], state["attributes"], state["t"]
        except (KeyError, TypeError):
            raise ConfigurationError(
                f"component '{self.name}' ({type(self).__name__}) cannot restore {type(state).__name__}: "
                "not a snapshot from its save_state()"
            ) from None
        for k, v in ports.items():
            agents = self.port_agents(k) if k in self.ports else None
            if agents is not None:  # the rows of the restored agent set (restored first)
                self._arrays[k] = np.array(v, copy=True)
                self._agent_seen[k] = (agents, agents.version, agents.ids.copy(), agents.next_id)
            else:
                self.restore_port(k, v)
        for k, v in attributes.items():
            current = getattr(self, k, None)
            if isinstance(current, np.ndarray) and isinstance(v, np.ndarray) and current.shape == v.shape \
                    and current.dtype == v.dtype:
                current[...] = v
            else:
                setattr(self, k, copy.deepcopy(v))
        self.t = t

    def restore_port(self, name: str, saved: Any) -> None:
        """Refill the array of port ``name`` in place from a snapshot's copy of it.

        For a :meth:`restore_state` of one's own: unlike ``port_array(name)[...] = saved``
        it never broadcasts.

        Raises
        ------
        ConfigurationError
            The component has no port ``name`` now, or its array has another shape
            than ``saved`` (a snapshot of a component built with other settings).
        """
        where = f"component '{self.name}' ({type(self).__name__}): cannot restore port '{name}'"
        if name not in self.ports:
            have = ", ".join(sorted(self.ports)) or "none"
            raise ConfigurationError(f"{where}: it has no such port now (its ports: {have}); "
                                     "the snapshot is from a component built with other settings")
        target, value = self.port_array(name), np.asarray(saved)
        if value.shape != target.shape:
            raise ConfigurationError(f"{where}: the snapshot holds shape {value.shape}, the port now has "
                                     f"{target.shape}; the snapshot is from a component built with other settings "
                                     "(mesh, number of points or components)")
        target[...] = value

    def _declared_state(self, what: str) -> tuple[str, ...]:
        names = type(self).state_attributes
        if names is None:
            raise ConfigurationError(
                f"component '{self.name}' ({type(self).__name__}) declares no state, so {what}() cannot "
                "know what to keep; list the attributes that hold its state besides its port arrays and t "
                "as a class attribute, e.g. state_attributes = ('velocity', 'step_count') (an empty tuple "
                "when the port arrays are the whole state), or implement save_state() and restore_state()"
            )
        return tuple(names)

    # -- what the coupling delivers -------------------------------------------
    def delivered(self, port: str) -> np.ndarray | None:
        """Which values of input port ``port`` the coupling writes.

        ``None`` when connections deliver every value of the port (the usual
        case); otherwise a boolean mask shaped like :meth:`port_array` that is
        ``True`` where a connection writes (e.g. one species of several fed
        through ``target_component``). The values where it is ``False`` are
        never written by the coupling: a component that copies an input into
        its state in :meth:`receive` copies only the delivered ones::

            mask = self.delivered("state_in")
            if mask is None:
                self.state[...] = self.port_array("state_in")
            else:
                self.state[mask] = self.port_array("state_in")[mask]
        """
        return self._delivered.get(port)

    def finalize(self) -> None:
        """Release resources at the end of a run."""

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.__dict__["_settings"].items())
        return f"{type(self).__name__}(name={self.name!r}, {settings})"
