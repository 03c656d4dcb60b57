"""``kinetics.network``: a reaction network in every cell of a field.

The network is read from Antimony or SBML (:mod:`msm_kinetics.sbml_reader`, or the
built-in Antimony subset of :mod:`msm_kinetics.antimony_subset`), compiled into
vectorised evaluators of its rates, right-hand side and analytic Jacobian
(:mod:`msm_kinetics.system`) and integrated over every cell at once - by explicit
Euler (MUSCLE3's micro model, bit for bit) or by one PETSc TS with adaptive,
error-controlled steps (:mod:`msm_kinetics.integrator`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

import msmcore as msm
from msm_kinetics._convert import block_range, cell_shape, method_variant
from msm_kinetics.expressions import uses_time
from msm_kinetics.integrator import DEFAULT_VARIANTS, TS_METHODS, TSIntegrator, block_matrix
from msm_kinetics.model import KineticModel
from msm_kinetics.per_agent import AgentFollowing, inherit_modes, inherit_value
from msm_kinetics.sources import read_model
from msm_kinetics.system import CellSystem
from msmcore.errors import ConfigurationError, CouplingError

__all__ = ["Network", "block_range", "cell_shape", "read_model"]

logger = logging.getLogger(__name__)

class Network(AgentFollowing, msm.Component):
    """A reaction network in every cell of a field.

    The network is read from Antimony (``model``, or a ``model_file``) or SBML
    (``sbml``, or a ``model_file``); general rate laws are compiled from the
    MathML tree into vectorised evaluators and analytic derivatives. Every cell
    holds its own concentrations and reacts independently:

    - ``method="euler"``: explicit Euler with steps of exactly ``dt``:
      ``r = v(c)`` then ``c += sum_j r_j * (coefficient_j * dt)`` over the
      non-zero coefficients (MUSCLE3's micro model ``U += k U dt`` bit for bit);
    - ``method="bdf" | "rosw" | "arkimex" | "rk"``: one PETSc TS over all local
      cells with adaptive steps controlled by ``rtol``/``atol`` (max norm) and,
      for the implicit methods, the analytic Jacobian assembled block-diagonally
      (see :mod:`msm_kinetics.integrator`).

    Ports
    -----
    state_in (optional input)
        Species values per cell, shape ``shape`` (one species) or
        ``(*shape, nspecies)``; receiving it makes it the new state (the micro
        side of a macro-micro coupling).
    state_out (output)
        The state itself (same array, updated in place; the TS works in it), units ``units``.
    rates_out (output)
        Reaction rates at the current state, ``(*shape, nreactions)`` (or
        ``shape`` for one reaction), units ``units/s``.

    Distribution
    ------------
    On a communicator ``comm`` of more than one rank (set by the coupling before
    :meth:`initialize`, a new one for every run), the cells - ``shape`` flattened in C
    order - are split into contiguous blocks (:func:`block_range`). Each rank
    holds only its block: the port arrays have shape ``(ncells_local,
    ncomponents)``, or ``(ncells_local,)`` for one component (possibly empty),
    and :meth:`port_indices` gives their positions in the global port arrays. With
    ``euler`` the values are bit for bit those of a serial run; the TS methods
    run one TS on ``comm`` over the local blocks (one step sequence for the
    field, as serially; see :mod:`msm_kinetics.integrator` for how exactly
    the results match).

    Notes
    -----
    ``rates_out`` always holds the rates of the current ``state_out``: they are
    recomputed after :meth:`initialize`, every step, :meth:`receive` and
    :meth:`restore_state`. Code that writes into ``state_out`` directly must call
    :meth:`compute_rates` afterwards.

    The ports label their values: ``state_in``/``state_out`` carry the species
    names (``value_dim="species"``), ``rates_out`` the reaction names
    (``value_dim="reaction"``).

    State (:meth:`save_state`): the time, the species (``state_out``), the
    rates, the ``state_in`` array and the step the TS proposed last (where the
    next window's integration starts). A TS restarts its history at every
    :meth:`advance`, so nothing else carries over from one window to the next.

    Lifetime: :meth:`finalize` destroys the TS and its PETSc objects; a later
    :meth:`initialize` starts afresh on the communicator :attr:`comm` holds
    then (the cell blocks, and with them the port arrays, are laid out again
    when its size or rank differs).
    """

    key = "kinetics.network"

    model: msm.Setting[str | None] = msm.Setting(
        str, default=None, doc="the network in Antimony, e.g. 'J: U -> ; k*U; k = 4.05e4'")
    model_file: msm.Setting[str | None] = msm.Setting(
        str, default=None, doc="file with the network: Antimony (.ant/.antimony/.txt) or SBML (.xml/.sbml)")
    sbml: msm.Setting[str | None] = msm.Setting(str, default=None, doc="the network as an SBML document")
    reader: msm.Setting[str] = msm.Setting(
        str, default="auto", choices=("auto", "antimony", "subset"),
        doc="Antimony reader: the antimony package, the built-in mass-action subset, or auto")
    shape: msm.Setting[tuple[int, ...]] = msm.Setting(
        cell_shape, default=(1,), doc="cells the network runs in"
    )
    dt: msm.Setting[float | None] = msm.Setting(
        float, default=None, minimum=0.0, units="s",
        doc="time step of 'euler' (required there); first step of the TS methods (default: estimated)")
    method: msm.Setting[str] = msm.Setting(
        str, default="euler", choices=("euler", *TS_METHODS), doc="time integrator")
    variant: msm.Setting[str | None] = msm.Setting(
        method_variant, default=None,
        doc=f"TS variant: BDF order 1-6 or a TSRosW/TSARKIMEX/TSRK type (defaults {DEFAULT_VARIANTS})")
    rtol: msm.Setting[float] = msm.Setting(float, default=1e-6, minimum=0.0, doc="relative tolerance (TS)")
    atol: msm.Setting[float] = msm.Setting(float, default=1e-12, minimum=0.0, doc="absolute tolerance (TS)")
    max_steps: msm.Setting[int] = msm.Setting(int, default=100_000, minimum=1,
                                              doc="most TS steps per advance")
    units: msm.Setting[str] = msm.Setting(str, default="1", doc="concentration units")
    species: msm.Setting[tuple[str, ...] | None] = msm.Setting(
        tuple, default=None, doc="order of the species in the ports (default: model order)"
    )
    agents: msm.Setting[str | None] = msm.Setting(
        str, default=None, doc="one network per agent of the agent set connected to it (the name its ports give); "
                               "replaces 'shape' (see msm_kinetics.per_agent)")
    inherit: msm.Setting[Any] = msm.Setting(
        inherit_value, default="copy", doc="at a division, per species: 'split' (amount halves) or 'copy' "
                                           "(concentration inherited); one for all or {species: mode}")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        me = f"component '{self.name}' (kinetics.network)"
        if self.dt is not None and not self.dt > 0.0:
            raise ConfigurationError(f"setting 'dt' of {me} must be > 0, got {self.dt!r}")
        if self.method == "euler":
            if self.dt is None:
                raise ConfigurationError(f"setting 'dt' of {me} is required with method='euler' (its step)")
            if self.variant is not None:
                raise ConfigurationError(f"setting 'variant' of {me} applies to the TS methods "
                                         f"({', '.join(TS_METHODS)}), not to method='euler'")
        elif self.method == "bdf" and self.variant is not None and self.variant not in "123456":
            raise ConfigurationError(f"setting 'variant' of {me} is the BDF order with method='bdf': "
                                     f"1 to 6, got {self.variant!r}")
        if self.method != "euler" and not (self.rtol > 0.0 or self.atol > 0.0):
            raise ConfigurationError(f"settings 'rtol' and 'atol' of {me} cannot both be 0")
        source = read_model(model=self.model, model_file=self.model_file, sbml=self.sbml,
                            reader=self.reader, where=me)
        #: Species in port order.
        self.species_names: tuple[str, ...] = self._species_order(source.species)
        #: The network, species in port order.
        self.kinetic_model: KineticModel = (
            source if self.species_names == source.species else source.reordered(self.species_names))
        #: Reaction names in port order.
        self.reaction_names: tuple[str, ...] = self.kinetic_model.reactions
        #: Compiled rates, right-hand side and Jacobian.
        self.system = CellSystem(self.kinetic_model)
        if self.method == "rosw" and any(
                uses_time(e) for e in (*self.kinetic_model.rate_laws, *self.kinetic_model.rate_rules.values())):
            logger.warning(
                "%s: the model reads 'time'; PETSc's TSROSW (method='rosw') has no time-derivative term in its "
                "stages, which lowers its order for such models and can multiply its steps; method='bdf' "
                "does not have this problem", me)
        self.ncells = int(np.prod(self.shape, dtype=np.int64))
        if self.agents is not None and (self.shape != (1,) or not self.agents.isidentifier()):
            raise ConfigurationError(f"{me}: with agents={self.agents!r} there is one network per agent; give no "
                                     "'shape', and a name of letters, digits and '_'")
        #: Inheritance at a division, one mode per species (see :mod:`msm_kinetics.per_agent`).
        self.inherit_modes = inherit_modes(self.inherit, self.species_names, me)
        self._initial = self.kinetic_model.initial.copy()
        # (communicator, size, rank, start, stop) of this rank's cell block, fixed by
        # the first port_array()/port_indices()/initialize() call.
        self._layout: tuple[Any, int, int, int, int] | None = None
        self._c: np.ndarray | None = None  # state as (ncells_local, nspecies), a view
        self._r: np.ndarray | None = None  # rates as (ncells_local, nreactions), a view
        self._integrator: TSIntegrator | None = None
        self._dt_next: float | None = None  # the TS's proposed next step

    def _species_order(self, model_species: tuple[str, ...]) -> tuple[str, ...]:
        if self.species is None:
            return model_species
        given = tuple(str(s) for s in self.species)
        missing = [s for s in model_species if s not in given]
        extra = [s for s in given if s not in model_species]
        if missing or extra or len(set(given)) != len(given):
            problems = []
            if missing:
                problems.append(f"missing {', '.join(missing)}")
            if extra:
                problems.append(f"not in the model: {', '.join(extra)}")
            if len(set(given)) != len(given):
                problems.append("names repeated")
            raise ConfigurationError(
                f"setting 'species' of component '{self.name}' (kinetics.network) must list each "
                f"species of the model once ({', '.join(model_species)}): {'; '.join(problems)}"
            )
        return given

    # -- description -----------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """``state_in`` (optional), ``state_out`` and ``rates_out``."""
        ns, nr = len(self.species_names), len(self.reaction_names)
        species = ", ".join(self.species_names)
        names: dict[str, Any] = {"value_names": self.species_names, "value_dim": "species"}
        reactions: dict[str, Any] = {"value_names": self.reaction_names, "value_dim": "reaction"} if nr else {}
        place: dict[str, Any] = {"agents": self.agents} if self.agents else {"shape": self.shape}
        return [
            msm.Port.input("state_in", required=False, components=ns, units=self.units, **names, **place,
                           doc=f"concentrations ({species}); received values replace the state"),
            msm.Port.output("state_out", components=ns, units=self.units, **names, **place,
                            doc=f"concentrations ({species})"),
            msm.Port.output("rates_out", components=max(nr, 1), units=f"{self.units}/s", **place,
                            **reactions, doc=f"reaction rates ({', '.join(self.reaction_names) or 'none'})"),
        ]

    def time_step(self) -> float | None:
        """The ``dt`` setting: Euler's step; with a TS method a sub-step for interpolating couplings.

        Returns
        -------
        float or None
            ``None`` when ``dt`` is not given (a TS method adapting its own
            steps): the coupling then takes its window from elsewhere.
        """
        return None if self.dt is None else float(self.dt)

    def _block(self) -> tuple[Any, int, int, int, int]:
        """``(comm, size, rank, start, stop)``: this rank's cells ``[start, stop)``.

        Laid out on first use, and again by :meth:`initialize` on the
        communicator :attr:`comm` holds then (see :meth:`_lay_out`); between
        runs (after :meth:`finalize`) it stays that of the last run, so the
        port arrays still hold that run's values.
        """
        if self._layout is None:
            self._lay_out()
        assert self._layout is not None
        return self._layout

    def _lay_out(self) -> None:
        """Lay the cells out on :attr:`comm` (a new run gives a new one).

        When this rank's block differs from the last layout's, the port arrays
        laid out for that one are dropped and allocated anew for the new block
        (the coupling asks for them after :meth:`initialize`).
        """
        comm = self.comm
        size, rank = (1, 0) if comm is None else (int(comm.Get_size()), int(comm.Get_rank()))
        if self.agents is not None:  # one network per agent, on one rank (the core refuses more)
            self.ncells = self.agent_set(self.agents).count
            self._layout = (comm, 1, 0, 0, self.ncells)
            return
        start, stop = block_range(self.ncells, size, rank)
        if self._layout is not None and self._layout[1:] != (size, rank, start, stop):
            logger.debug("component '%s': communicator of another layout (rank %d of %d); new port arrays",
                         self.name, rank, size)
            if self._integrator is not None:
                self._integrator.destroy()
                self._integrator = None
            self._arrays.clear()
            self._c = self._r = None
        self._layout = (comm, size, rank, start, stop)

    @property
    def distributed(self) -> bool:
        """Whether the cells are split over more than one rank."""
        return self._block()[1] > 1

    @property
    def cell_range(self) -> tuple[int, int]:
        """The global flat (C-order) cells ``[start, stop)`` this rank holds."""
        return self._block()[3:5]

    @property
    def ncells_local(self) -> int:
        """Number of cells this rank holds (``ncells`` serially)."""
        start, stop = self.cell_range
        return stop - start

    def port_array(self, name: str) -> np.ndarray:
        """The array behind port ``name``: this rank's cells, allocated once (zeros).

        Serial it has the port's full ``array_shape``; distributed it has shape
        ``(ncells_local, ncomponents)``, or ``(ncells_local,)`` for one component
        (C-contiguous, possibly empty), in the order of :meth:`port_indices`.
        With ``agents``: one row per agent (see :mod:`msm_kinetics.per_agent`).
        """
        if self.agents is not None:
            return super().port_array(name)
        array = self._arrays.get(name)
        if array is None:
            spec = self.port(name).spec
            _, size, _, start, stop = self._block()
            if size == 1:
                shape = spec.array_shape
            elif spec.components == 1:
                shape = (stop - start,)
            else:
                shape = (stop - start, spec.components)
            array = np.zeros(shape, dtype=spec.dtype)
            self._arrays[name] = array
        return array

    def port_indices(self, name: str) -> np.ndarray:
        """Flat indices (int64) into the global port array of the values this rank holds.

        C order over the port's global ``array_shape`` (components last), in the
        order of ``port_array(name).reshape(-1)``: the contiguous range
        ``[start * ncomponents, stop * ncomponents)`` for this rank's cells
        ``[start, stop)``. A fresh array every call.
        """
        if self.agents is not None:
            return super().port_indices(name)
        components = self.port(name).spec.components
        start, stop = self.cell_range
        return np.arange(start * components, stop * components, dtype=np.int64)

    @property
    def state(self) -> np.ndarray:
        """The concentrations: the ``state_out`` port array itself."""
        return self.port_array("state_out")

    @property
    def rates(self) -> np.ndarray:
        """The reaction rates at the current state: the ``rates_out`` port array."""
        return self.port_array("rates_out")

    def concentration(self, species: str) -> np.ndarray:
        """Return a view of one species' concentration in every cell of this rank.

        Shape ``shape`` serially, ``(ncells_local,)`` distributed.

        Parameters
        ----------
        species
            A species name of the model.
        """
        try:
            i = self.species_names.index(species)
        except ValueError:
            raise ConfigurationError(
                f"component '{self.name}' has no species {species!r}; its species are "
                f"{', '.join(self.species_names)}"
            ) from None
        return self.state if len(self.species_names) == 1 else self.state[..., i]

    # -- lifecycle ---------------------------------------------------------------
    def initialize(self) -> None:
        """Set every cell to the model's initial values, compute the rates, set up the TS: a fresh start.

        May be called again after :meth:`finalize` (a new run), on the same or
        another communicator; ``state_in`` is zeroed and the TS's step memory
        forgotten, so a new run repeats the first one.
        """
        self.finalize()
        self._lay_out()
        ncells = self.ncells_local
        self._c = self.state.reshape(ncells, len(self.species_names))
        self._r = self.rates.reshape(ncells, self.ports["rates_out"].spec.components)
        if not (self.state.flags.c_contiguous and self.rates.flags.c_contiguous):
            raise CouplingError(f"component '{self.name}': port arrays must be C-contiguous")
        self._c[...] = self._initial
        self.port_array("state_in")[...] = 0.0
        self._dt_next = None
        self.compute_rates()
        comm, size, rank, start, stop = self._block()
        self._make_integrator()
        logger.debug("%s: %d species, %d reactions in cells [%d, %d) of %d (rank %d of %d), %s",
                     self.name, len(self.species_names), len(self.reaction_names), start, stop,
                     self.ncells, rank, size, self.method)

    def _make_integrator(self) -> None:
        comm, size = self._block()[:2]
        # A distributed TS is collective: a rank holding no cell still takes part (empty blocks).
        # Only an agent network (one rank) with no agents now goes without one until agents come.
        if self.method != "euler" and (self.agents is None or self.ncells_local > 0):
            prefix = re.sub(r"\W", "_", self.name) + "_"
            assert self._c is not None  # laid out by _lay_out()
            self._integrator = TSIntegrator(
                self.system, self._c, comm=comm if size > 1 else None, ncells=self.ncells,
                method=self.method, variant=self.variant, rtol=self.rtol, atol=self.atol,
                max_steps=self.max_steps, prefix=prefix, where=f"component '{self.name}' (kinetics.network)")

    def compute_rates(self) -> np.ndarray:
        """Recompute ``rates_out`` from the current state and return it."""
        c, r = self._views()
        if self.reaction_names:
            self.system.rates(c, self.t, r)
        return self.rates

    def step(self, dt: float) -> None:
        """Advance the state by ``dt`` (``self.t`` is left to the caller).

        Euler: one step, the rates at the current state, then
        ``c += sum_j r_j * (coefficient_j * dt)`` over the non-zero coefficients
        (an infinite rate never spreads as ``inf * 0 = NaN`` to species its reaction
        does not touch). The state is checked for NaN and infinity once per
        :meth:`advance`, not per step. TS methods: an adaptive integration over
        ``[t, t + dt]``.
        """
        c, r = self._views()
        if self.method == "euler":
            self.system.euler_step(c, self.t, dt, r)
        else:
            self._integrate(self.t, self.t + dt)

    def advance(self, t_end: float) -> None:
        """Advance to ``t_end``; then check the state and update ``rates_out``.

        Euler sub-cycles :meth:`step` (spans that are a whole number of ``dt``
        up to round-off in steps of exactly ``dt``); a TS method integrates from
        ``self.t`` to ``t_end`` with its adaptive steps, starting from the step
        the previous window ended with (the first window: ``dt``, or an estimate).

        Raises
        ------
        msmcore.CouplingError
            When the state holds a NaN or an infinity at the end of the window.
        msmcore.ConvergenceError
            When the TS cannot reach ``t_end`` (see :meth:`TSIntegrator.integrate`).
        """
        t0 = self.t
        if self.method == "euler":
            super().advance(t_end)
            advice = (f"reduce dt (now {self.dt!r} s; explicit Euler needs dt times every reaction's effective "
                      "first-order rate below 2), use an implicit method (method='rosw' or 'bdf'), or check "
                      "the state received on state_in")
        else:
            self._views()
            if t_end > t0:
                self._integrate(t0, t_end)
                self.t = t_end
            advice = ("tighten rtol/atol or check the model and the state received on state_in")
        self._check_finite(self._views()[0], f"after advancing from t={t0!r} to t={t_end!r} s", advice)
        self.compute_rates()

    def _integrate(self, t0: float, t1: float) -> None:
        integrator = self._integrator
        if integrator is None and self.agents is not None and self.ncells == 0:
            return  # no agents now: nothing reacts
        if integrator is None:
            raise CouplingError(f"component '{self.name}' (kinetics.network) was finalized; its TS is gone "
                                "(call initialize() to start again)")
        dt0 = self._dt_next or self.dt or integrator.initial_step(t0)
        integrator.dt_next = None
        integrator.integrate(t0, t1, dt0)
        self._dt_next = integrator.dt_next or self._dt_next or dt0

    def receive(self, port: str) -> None:
        """Take the data received on ``state_in`` as the new state: only the values delivered.

        When the coupling feeds only some values of ``state_in`` (e.g. one
        species through ``target_component``), :meth:`delivered` says which;
        the other species keep their own values (they are never reset to a
        stale input).

        Raises
        ------
        msmcore.CouplingError
            For an unknown port, or a received state holding NaN or infinity.
        """
        self.port(port)  # unknown names raise CouplingError listing the ports
        if port != "state_in":
            return
        shape = (self.ncells_local, len(self.species_names))
        received = self.port_array("state_in").reshape(shape)
        mask = self.delivered("state_in")
        c = self._views()[0]
        if mask is None:
            self._check_finite(received, f"received on port 'state_in' at t={self.t!r} s",
                               "check the component that sends it")
            c[...] = received
        else:
            mask = np.asarray(mask, dtype=bool).reshape(shape)
            self._check_finite(np.where(mask, received, 0.0), f"received on port 'state_in' at t={self.t!r} s",
                               "check the component that sends it")
            c[mask] = received[mask]
        self.compute_rates()

    def save_state(self) -> dict[str, Any]:
        """Snapshot of the time, the species, the rates, ``state_in`` and the TS's next step."""
        return {"t": self.t, "state": self.state.copy(), "rates": self.rates.copy(),
                "state_in": self.port_array("state_in").copy(), "dt_next": self._dt_next}

    def restore_state(self, state: Any) -> None:
        """Resume from :meth:`save_state`; the port arrays are refilled in place.

        A TS restarts its history at every :meth:`advance`, so a restored run
        repeats the saved one bit for bit.
        """
        try:
            if self.agents is not None:  # the agent set (restored before) says how many rows
                self._restore_agents(state)
            self.state[...] = state["state"]
            self.rates[...] = state["rates"]
            self.port_array("state_in")[...] = state["state_in"]
            self.t = state["t"]
            self._dt_next = state["dt_next"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CouplingError(
                f"component '{self.name}' (kinetics.network) cannot restore {type(state).__name__}: "
                f"not a snapshot from its save_state() ({exc})"
            ) from None

    def finalize(self) -> None:
        """Free the PETSc objects of the TS; the port arrays stay readable.

        :meth:`initialize` may be called again afterwards (a new run).
        """
        if self._integrator is not None:
            self._integrator.destroy()
            self._integrator = None

    # -- the ODE, for inspection ---------------------------------------------------
    def rhs(self) -> np.ndarray:
        """``d state / dt`` at the current state and time: a new array shaped like the state."""
        c, _ = self._views()
        out = np.empty_like(c)
        self.system.rhs(c, self.t, out)
        return out.reshape(self.state.shape)

    def jacobian(self) -> Any:
        """The ODE's Jacobian at the current state: an assembled PETSc ``Mat`` on ``comm``.

        Block-diagonal, one ``nspecies x nspecies`` block per cell (AIJ with block
        size ``nspecies``), rows and columns in the order of ``state_out``'s
        flat global indices; the matrix the implicit TS methods factor holds
        ``shift*I`` minus this. A new matrix every call: the caller owns it
        (``destroy()`` it when done; :meth:`finalize` does not know it).
        """
        c, _ = self._views()
        comm, size, _, start, _ = self._block()
        J = block_matrix(self.system, c.shape[0], self.ncells, start, comm if size > 1 else None)
        V = np.zeros((c.shape[0], self.system.nnz))
        self.system.jacobian(c, self.t, V)
        J.setValuesCOO(V.reshape(-1))
        return J

    # -- helpers -------------------------------------------------------------------
    def _views(self) -> tuple[np.ndarray, np.ndarray]:
        if self._c is None or self._r is None:
            raise CouplingError(
                f"component '{self.name}' (kinetics.network) is used before initialize(); "
                "call initialize() first (a Coupling does this for you)"
            )
        return self._c, self._r

    def _check_finite(self, c: np.ndarray, when: str, advice: str) -> None:
        """Raise :class:`msmcore.CouplingError` when ``c`` (local cells x species) is not finite.

        Distributed, this is collective over ``comm`` (one small ``Allgather``): every
        rank raises the same error, naming the global count, the species over all
        ranks, the global first bad cell and the ranks holding bad cells, so a NaN
        on one rank never leaves the others waiting in the next exchange.
        """
        comm, size, rank, start, _ = self._block()
        local_ok = bool(np.isfinite(c).all())
        nspecies = len(self.species_names)
        if size == 1:
            if local_ok:
                return
            summary = self._bad_summary(c, start)[None, :]
        else:
            # per rank: [bad cells, first bad global cell (ncells if none), flag per species]
            mine = np.zeros(2 + nspecies, dtype=np.int64) if local_ok else self._bad_summary(c, start)
            if local_ok:
                mine[1] = self.ncells
            summary = np.empty((size, 2 + nspecies), dtype=np.int64)
            comm.Allgather(mine, summary)
            if not summary[:, 0].any():
                return
        nbad = int(summary[:, 0].sum())
        first_cell = int(summary[:, 1].min())
        species = [self.species_names[s] for s in np.flatnonzero(summary[:, 2:].any(axis=0))]
        first = tuple(int(i) for i in np.unravel_index(first_cell, self.shape if self.agents is None
                                                         else (max(self.ncells, 1),)))
        where = f"first at cell {first if len(first) > 1 else first[0]}"
        who = ""
        if size > 1:
            ranks = ", ".join(str(r) for r in np.flatnonzero(summary[:, 0]))
            where += f" (on rank(s) {ranks} of {size})"
            who = f" on rank {rank}"
        raise CouplingError(
            f"component '{self.name}' (kinetics.network){who}: non-finite concentration (NaN or inf) "
            f"{when}: species {', '.join(species)} in {nbad} of {self.ncells} cell(s), {where}; {advice}"
        )

    def _bad_summary(self, c: np.ndarray, start: int) -> np.ndarray:
        """``[bad cells, first bad global cell, bad flag per species]`` of local cells ``c``."""
        bad = ~np.isfinite(c)
        cells = np.flatnonzero(bad.any(axis=1))
        return np.concatenate(([len(cells), start + int(cells[0])],
                               bad.any(axis=0).astype(np.int64))).astype(np.int64)
