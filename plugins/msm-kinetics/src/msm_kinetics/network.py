"""``kinetics.network``: a mass-action reaction network in every cell of a field."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

import msmcore as msm
from msm_kinetics.antimony_subset import ReactionModel, parse_model
from msmcore.errors import ConfigurationError, CouplingError

__all__ = ["Network", "block_range", "cell_shape"]

logger = logging.getLogger(__name__)


def cell_shape(value: Any) -> tuple[int, ...]:
    """Convert a ``shape`` setting: a positive int or a sequence of positive ints.

    Parameters
    ----------
    value
        ``100``, ``(100,)``, ``[10, 20]``...

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        When a dimension is not a positive integer (the setting machinery turns
        it into a :class:`msmcore.ConfigurationError`).
    """
    dims = (value,) if isinstance(value, (int, np.integer)) else value
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence) or len(dims) == 0:
        raise ValueError("expected a positive integer or a non-empty sequence of them")
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(f"dimension {d!r} is not a positive integer")
        out.append(int(d))
    return tuple(out)


def block_range(n: int, size: int, rank: int) -> tuple[int, int]:
    """The contiguous block ``[start, stop)`` of ``n`` items that ``rank`` of ``size`` holds.

    Balanced: block sizes differ by at most one, the lower ranks get the extra
    items (``n = 10`` on 3 ranks: ``[0, 4)``, ``[4, 7)``, ``[7, 10)``); a rank
    gets an empty block when ``n < size``.
    """
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class Network(msm.Component):
    """Mass-action reaction network in every cell of a field (explicit Euler).

    The model is a string in the Antimony subset of
    :mod:`msm_kinetics.antimony_subset`, e.g. ``"J: U -> ; k*U; k = 4.05e4"``.
    Every cell holds its own concentrations and reacts independently. One
    step of length ``dt`` computes, for all cells at once,
    ``r[cell, j] = k_j * prod_s c[cell, s]**order[j, s]`` and then
    ``c += dt * (r @ N.T)`` with ``N`` the stoichiometry matrix
    (species x reactions), the product summed over the non-zero entries of
    ``N`` (a reaction whose rate overflows poisons only the species it changes).
    The Python loops run over the network (reactions, factors, non-zero
    stoichiometric entries), never over cells.

    Ports
    -----
    state_in (optional input)
        Concentrations per cell, shape ``shape`` (one species) or
        ``(*shape, nspecies)``; receiving it makes it the new state (the micro
        side of a macro-micro coupling).
    state_out (output)
        The state itself (same array, updated in place), units ``units``.
    rates_out (output)
        Reaction rates at the current state, ``(*shape, nreactions)`` (or
        ``shape`` for one reaction), units ``units/s``.

    Distribution
    ------------
    On a communicator ``comm`` of more than one rank (set by the coupling before
    the first :meth:`port_array` call), the cells - ``shape`` flattened in C
    order - are split into contiguous blocks (:func:`block_range`: sizes differ
    by at most one, lower ranks get the extra cell). Each rank then holds only its
    block: the port arrays have shape ``(ncells_local, ncomponents)``, or
    ``(ncells_local,)`` for one component (possibly empty), and
    :meth:`port_indices` gives their positions in the global port arrays, whose
    :class:`~msmcore.FieldSpec` (``shape``) stays global. Cells react
    independently, so the values are bit for bit those of a serial run. Serial
    (``comm`` ``None`` or of one rank) the arrays have the full shape.

    Notes
    -----
    ``rates_out`` always holds the rates of the current ``state_out``: they are
    recomputed after :meth:`initialize`, every step, :meth:`receive` and
    :meth:`restore_state`. Code that writes into ``state_out`` directly must call
    :meth:`compute_rates` afterwards.
    """

    key = "kinetics.network"

    model: msm.Setting[str] = msm.Setting(str, doc="reaction network in the Antimony subset (see the README)")
    shape: msm.Setting[tuple[int, ...]] = msm.Setting(
        cell_shape, default=(1,), doc="cells the network runs in"
    )
    dt: msm.Setting[float] = msm.Setting(float, minimum=0.0, units="s", doc="time step (> 0)")
    method: msm.Setting[str] = msm.Setting(str, default="euler", choices=("euler",), doc="time integrator")
    units: msm.Setting[str] = msm.Setting(str, default="1", doc="concentration units")
    species: msm.Setting[tuple[str, ...] | None] = msm.Setting(
        tuple, default=None, doc="order of the species in the ports (default: model order)"
    )

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        where = f"setting 'model' of component '{self.name}' (kinetics.network)"
        if not self.dt > 0.0:
            raise ConfigurationError(
                f"setting 'dt' of component '{self.name}' (kinetics.network) must be > 0, "
                f"got {self.dt!r}"
            )
        #: The parsed model.
        self.network: ReactionModel = parse_model(self.model, where)
        #: Species in port order.
        self.species_names: tuple[str, ...] = self._species_order()
        #: Reaction names in port order.
        self.reaction_names: tuple[str, ...] = tuple(r.name for r in self.network.reactions)
        self.ncells = int(np.prod(self.shape, dtype=np.int64))
        # Evaluation plan of the rates: per reaction its constant and the species
        # indices of its factors, each repeated `order` times, in rate-law order
        # (k*A*B^2 -> (k, [iA, iB, iB]) evaluated as ((k*A)*B)*B).
        index = {s: i for i, s in enumerate(self.species_names)}
        self._plan: tuple[tuple[float, tuple[int, ...]], ...] = tuple(
            (r.rate_constant, tuple(index[s] for s, o in r.orders.items() for _ in range(o)))
            for r in self.network.reactions
        )
        # Per species, the reactions changing it with their net coefficients: the
        # increment is accumulated over these non-zero entries of N only, so that an
        # infinite rate never spreads (as inf*0 = NaN in a dense r @ N.T) to species
        # its reaction does not touch.
        stoich = self.network.stoichiometry(self.species_names)
        self._terms: tuple[tuple[tuple[int, float], ...], ...] = tuple(
            tuple((int(j), float(stoich[s, j])) for j in np.flatnonzero(stoich[s]))
            for s in range(len(self.species_names))
        )
        self._initial = self.network.initial_vector(self.species_names)
        # (communicator, size, rank, start, stop) of this rank's cell block, fixed by
        # the first port_array()/port_indices()/initialize() call.
        self._layout: tuple[Any, int, int, int, int] | None = None
        self._c: np.ndarray | None = None  # state as (ncells_local, nspecies), a view
        self._r: np.ndarray | None = None  # rates as (ncells_local, nreactions), a view
        self._dc: np.ndarray | None = None
        self._rate_cols: list[tuple[float, np.ndarray, list[np.ndarray]]] = []
        self._increment_cols: list[tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, float]]]] = []

    def _species_order(self) -> tuple[str, ...]:
        model_species = self.network.species
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
        return [
            msm.Port.input("state_in", self.shape, required=False, components=ns, units=self.units,
                           doc=f"concentrations ({species}); received values replace the state"),
            msm.Port.output("state_out", self.shape, components=ns, units=self.units,
                            doc=f"concentrations ({species})"),
            msm.Port.output("rates_out", self.shape, components=nr, units=f"{self.units}/s",
                            doc=f"reaction rates ({', '.join(self.reaction_names)})"),
        ]

    def _block(self) -> tuple[Any, int, int, int, int]:
        """``(comm, size, rank, start, stop)``: this rank's cells ``[start, stop)``.

        Fixed on first use; a communicator of another size or rank afterwards is
        an error (the port arrays were already allocated for the old one).
        """
        comm = self.comm
        size, rank = (1, 0) if comm is None else (int(comm.Get_size()), int(comm.Get_rank()))
        if self._layout is None:
            start, stop = block_range(self.ncells, size, rank)
            self._layout = (comm, size, rank, start, stop)
        elif self._layout[1:3] != (size, rank):
            raise CouplingError(
                f"component '{self.name}' (kinetics.network): its communicator changed from rank "
                f"{self._layout[2]} of {self._layout[1]} to rank {rank} of {size} after the port "
                "arrays were allocated; set comm before the first port_array() call and initialize()"
            )
        return self._layout

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
        """
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
        """Set every cell to the model's initial values and compute the rates."""
        ncells = self.ncells_local
        self._c = self.state.reshape(ncells, len(self.species_names))
        self._r = self.rates.reshape(ncells, len(self.reaction_names))
        if not (self.state.flags.c_contiguous and self.rates.flags.c_contiguous):
            raise CouplingError(f"component '{self.name}': port arrays must be C-contiguous")
        self._dc = np.empty_like(self._c)
        c, r, dc = self._c, self._r, self._dc
        # Column views, built once: a step is then a few ufunc calls over all cells.
        self._rate_cols = [(k, r[:, j], [c[:, s] for s in factors])
                           for j, (k, factors) in enumerate(self._plan)]
        self._increment_cols = [(c[:, s], dc[:, s], [(r[:, j], nu) for j, nu in terms])
                                for s, terms in enumerate(self._terms) if terms]
        self._c[...] = self._initial
        self.compute_rates()
        _, size, rank, start, stop = self._block()
        logger.debug("%s: %d species, %d reactions in cells [%d, %d) of %d (rank %d of %d)",
                     self.name, len(self.species_names), len(self.reaction_names), start, stop,
                     self.ncells, rank, size)

    def compute_rates(self) -> np.ndarray:
        """Recompute ``rates_out`` from the current state and return it.

        Each column ``j`` is ``k_j`` times the rate law's species factors,
        multiplied in the order they are written (one ufunc call per factor of
        the network, each over all cells).
        """
        self._views()
        for k, col, factors in self._rate_cols:
            if not factors:
                col.fill(k)
                continue
            np.multiply(k, factors[0], out=col)
            for f in factors[1:]:
                np.multiply(col, f, out=col)
        return self.rates

    def step(self, dt: float) -> None:
        """One explicit Euler step: rates at the current state, then ``c += dt * (r @ N.T)``.

        The increment of each species is summed over the non-zero entries of
        ``N`` only, so an infinite rate never spreads (as inf * 0 = NaN in a dense
        product) to species its reaction does not touch. The state is checked for
        NaN and infinity once per :meth:`advance`, not per step (the check costs
        as much as the step).
        """
        self.compute_rates()
        for c_col, dc_col, terms in self._increment_cols:
            # r * (nu * dt) with nu = -1 rounds exactly like MUSCLE3's `U += k * U * dt`
            # with k < 0, since negation is exact: (k*U) * (-dt) == (-k*U) * dt.
            r0, nu0 = terms[0]
            np.multiply(r0, nu0 * dt, out=dc_col)
            for rj, nu in terms[1:]:
                dc_col += rj * (nu * dt)
            c_col += dc_col

    def advance(self, t_end: float) -> None:
        """Sub-cycle :meth:`step` to ``t_end``; then check the state and update ``rates_out``.

        Raises
        ------
        msmcore.CouplingError
            When the state holds a NaN or an infinity at the end of the window.
        """
        t0 = self.t
        super().advance(t_end)
        self._check_finite(self._views()[0], f"after advancing from t={t0!r} to t={t_end!r} s",
                           f"reduce dt (now {self.dt!r} s; explicit Euler needs dt times every "
                           "reaction's effective first-order rate below 2) or check the state "
                           "received on state_in")
        self.compute_rates()

    def receive(self, port: str) -> None:
        """Take the data received on ``state_in`` as the new state.

        Raises
        ------
        msmcore.CouplingError
            For an unknown port, or a received state holding NaN or infinity.
        """
        self.port(port)  # unknown names raise CouplingError listing the ports
        if port != "state_in":
            return
        received = self.port_array("state_in").reshape(self.ncells_local, len(self.species_names))
        self._check_finite(received, f"received on port 'state_in' at t={self.t!r} s",
                           "check the component that sends it")
        self._views()[0][...] = received
        self.compute_rates()

    def save_state(self) -> dict[str, Any]:
        """Snapshot of the time, the concentrations and the rates."""
        return {"t": self.t, "state": self.state.copy(), "rates": self.rates.copy()}

    def restore_state(self, state: Any) -> None:
        """Resume from :meth:`save_state`; the port arrays are refilled in place."""
        try:
            self.state[...] = state["state"]
            self.rates[...] = state["rates"]
            self.t = state["t"]
        except (KeyError, TypeError, ValueError) as exc:
            raise CouplingError(
                f"component '{self.name}' (kinetics.network) cannot restore {type(state).__name__}: "
                f"not a snapshot from its save_state() ({exc})"
            ) from None

    # -- helpers -------------------------------------------------------------------
    def _views(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._c is None or self._r is None or self._dc is None:
            raise CouplingError(
                f"component '{self.name}' (kinetics.network) is used before initialize(); "
                "call initialize() first (a Coupling does this for you)"
            )
        return self._c, self._r, self._dc

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
        first = tuple(int(i) for i in np.unravel_index(first_cell, self.shape))
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
