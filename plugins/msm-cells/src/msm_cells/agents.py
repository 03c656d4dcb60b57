"""The ``cells.agents`` component: off-lattice cells as an msmcore agent set with dynamic ports."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

import msmcore as msm
from msm_cells._convert import float_list, name_list, optional_float, positions_value, substrates_value
from msm_cells.cycle import FLOW_CYTOMETRY_SEPARATED, CycleModel, LiveCycle, PhasedCycle
from msm_cells.mechanics import equilibrium_distance
from msm_cells.population import PhenotypeParams, Population, radius_of

__all__ = ["Cells"]

logger = logging.getLogger(__name__)

_MODIFIERS = ("cycle_modifier_in", "death_modifier_in")


class Cells(msm.Component):
    """Off-lattice centre-based cells (PhysiCell-style) in 2D or 3D; units min, um, um^3.

    Mechanics, cycle, death and volume are those of :mod:`msm_cells.population`
    (PhysiCell's potentials with an Adams-Bashforth update every ``dt_mechanics``;
    the cycle, apoptosis, necrosis and volume models every ``dt_phenotype``). The
    cells are the agent set ``cells`` (ids stable for the run, ascending; daughters
    get new ids, the dead are removed), and every port below is an agent port with
    one row per cell in id order.

    Ports
    -----
    positions_out
        Centres (um), ``dim`` values per cell.
    volumes_out
        Cell volume (um^3) in 3D; in 2D the area of the cell's equatorial disc,
        ``pi r^2`` (um^2), with ``r`` the radius of its volume, so that
        ``mapping="deposit"`` finds the cell's radius in both cases.
    phase_out
        Cycle phase index (0 .. K-1) of live cells, -1 apoptotic, -2 necrotic.
    uptake_<s>_out, secretion_<s>_out (per substrate ``s``)
        The cell's uptake rate constant ``U`` (1/min: the cell removes ``U c`` per
        unit of its volume) and secretion rate (``units/min`` per unit of its
        volume); zero for dead cells. Deposit them with ``quantity="intensive"``
        (and ``volumes=`` this component's ``volumes_out``) to get BioFVM's
        volume-weighted sink coefficient and source on a grid (Ghaffarizadeh,
        Friedman & Macklin, Bioinformatics 32, 1256 (2016)).
    concentration_<s>_in (optional)
        The substrate at each cell (e.g. ``mapping="interpolate"`` from a grid);
        unconnected: the substrate's ``default``. The substrate named
        ``oxygen_substrate`` drives necrosis.
    cycle_modifier_in, death_modifier_in (optional)
        Per-cell multipliers of the cycle rate and the apoptosis rate (1 when
        unconnected; negative values count as 0), e.g. from a per-cell network.
    network_in / network_out (with ``network_species``)
        A relay for a per-cell reaction network: ``network_out`` holds
        ``network_in``'s values with the columns named like a substrate replaced
        by the cell's local concentration of it (``network_initial`` until
        ``network_in`` first arrives); connect ``network_out`` to the network's
        ``state_in`` and its ``state_out`` to ``network_in``.

    Notes
    -----
    Random numbers are keyed by (``seed``, cell id, phenotype step)
    (:mod:`msm_cells.rng`): no generator state, and results independent of threads
    and storage order. State: the :class:`~msm_cells.population.Population`
    (positions, previous velocities, phases, clocks, volumes, ids, step counters),
    which inputs were received, the port arrays and ``t``; the agent set is saved
    with the component by msmcore. A window must be a whole number of
    ``dt_mechanics``; phenotype steps fall on every ``dt_phenotype / dt_mechanics``-th
    mechanics step counted from t = 0.
    """

    dim = msm.Setting(int, default=3, choices=(2, 3), doc="spatial dimension")
    count = msm.Setting(int, default=1, minimum=1, doc="initial cells (ignored when 'positions' is given)")
    positions = msm.Setting(positions_value, default=None, units="um",
                            doc="explicit initial centres; default: 'count' lattice points nearest the origin")
    seed = msm.Setting(int, default=0, minimum=0, doc="seed of the per-cell random numbers")
    dt_mechanics = msm.Setting(float, default=0.1, minimum=0.0, units="min", doc="mechanics step (PhysiCell 0.1)")
    dt_phenotype = msm.Setting(float, default=6.0, minimum=0.0, units="min",
                               doc="cycle/death/volume step (PhysiCell 6), a multiple of dt_mechanics")
    cycle = msm.Setting(str, default="live", choices=("live", "phased"), doc="cycle model")
    birth_rate = msm.Setting(float, default=0.0432 / 60.0, minimum=0.0, units="1/min",
                             doc="live model's birth rate (PhysiCell default 0.0432/h)")
    phase_durations = msm.Setting(float_list, default=tuple(FLOW_CYTOMETRY_SEPARATED.values()), units="min",
                                  doc="phased model's (mean) phase durations; default PhysiCell's flow cytometry "
                                      "separated model")
    phase_names = msm.Setting(name_list, default=None, doc="names of the phases (default G0G1, S, G2, M)")
    transitions = msm.Setting(str, default="exponential", choices=("deterministic", "exponential"),
                              doc="phased model's transitions")
    apoptosis_rate = msm.Setting(float, default=5.31667e-05, minimum=0.0, units="1/min",
                                 doc="PhysiCell's default 0.00319/h")
    apoptosis_duration = msm.Setting(float, default=516.0, minimum=0.0, units="min", doc="PhysiCell: 8.6 h")
    necrosis_threshold = msm.Setting(optional_float, default=None,
                                     doc="oxygen below which cells may turn necrotic (PhysiCell 5 mmHg); None: off")
    necrosis_max = msm.Setting(float, default=2.5, doc="oxygen at and below which necrosis runs at full rate")
    necrosis_rate = msm.Setting(float, default=1.0 / 360.0, minimum=0.0, units="1/min", doc="full necrosis rate")
    necrosis_duration = msm.Setting(float, default=86400.0, minimum=0.0, units="min",
                                    doc="time a necrotic cell stays (PhysiCell: 60 days)")
    oxygen_substrate = msm.Setting(str, default="oxygen", doc="substrate that drives necrosis")
    target_volume = msm.Setting(float, default=2494.0, minimum=0.0, units="um^3", doc="PhysiCell's default volume")
    growth_rate = msm.Setting(float, default=0.27 / 60.0, minimum=0.0, units="1/min",
                              doc="live volume relaxation rate")
    apoptotic_shrink_rate = msm.Setting(float, default=1.0 / 60.0, minimum=0.0, units="1/min")
    necrotic_shrink_rate = msm.Setting(float, default=0.05 / 60.0, minimum=0.0, units="1/min")
    repulsion = msm.Setting(float, default=10.0, minimum=0.0, units="um/min", doc="cell-cell repulsion")
    adhesion = msm.Setting(float, default=0.4, minimum=0.0, units="um/min", doc="cell-cell adhesion")
    relative_adhesion_distance = msm.Setting(float, default=1.25, minimum=1.0,
                                             doc="maximum adhesion distance / radius")
    substrates = msm.Setting(substrates_value, default={}, doc="{name: {uptake, secretion, default, units}}")
    network_species = msm.Setting(name_list, default=(), doc="species of a per-cell network relayed through "
                                                             "network_in/network_out (see Ports)")
    network_initial = msm.Setting(tuple, default=None,
                                  doc="values relayed for the network's own species until network_in arrives "
                                      "(the network's initial values; default 0)")


    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        self._every = self._check_steps()
        self._cycle = self._make_cycle()
        self._check_death()
        self._pop: Population | None = None
        self._received: set[str] = set()

    # -- validation -----------------------------------------------------------
    def _bad(self, setting: str, text: str) -> msm.ConfigurationError:
        return msm.ConfigurationError(f"setting '{setting}' of component '{self.name}': {text}")

    def _check_steps(self) -> int:
        if not self.dt_mechanics > 0:
            raise self._bad("dt_mechanics", f"must be > 0, got {self.dt_mechanics}")
        ratio = self.dt_phenotype / self.dt_mechanics
        every = int(round(ratio))
        if every < 1 or abs(ratio - every) > 1e-9 * ratio:
            raise self._bad("dt_phenotype", f"{self.dt_phenotype} min is not a whole multiple of dt_mechanics="
                                            f"{self.dt_mechanics} min")
        return every

    def _make_cycle(self) -> CycleModel:
        dt = self.dt_phenotype
        if self.cycle == "live":
            if self.birth_rate * dt >= np.log(2.0):
                raise self._bad("birth_rate", f"b dt_phenotype = {self.birth_rate * dt:.3g} must be < ln 2 (the "
                                              "division probability per step exp(b dt) - 1 stays below 1); "
                                              "use a shorter dt_phenotype")
            return LiveCycle(self.birth_rate)
        names = self.phase_names if self.phase_names is not None else (
            tuple(FLOW_CYTOMETRY_SEPARATED) if len(self.phase_durations) == 4 else None)
        if names is not None and self.phase_names is None:
            names = tuple(n.replace("/", "") for n in names)
        if names is not None and len(names) != len(self.phase_durations):
            raise self._bad("phase_names", f"{len(names)} names for {len(self.phase_durations)} phase_durations")
        if self.transitions == "deterministic" and min(self.phase_durations) < dt:
            raise self._bad("phase_durations", f"a deterministic phase shorter than dt_phenotype={dt} min "
                                               f"({min(self.phase_durations)} min) cannot be resolved")
        return PhasedCycle(self.phase_durations, names, self.transitions)

    def _check_death(self) -> None:
        if self.necrosis_threshold is not None:
            if self.oxygen_substrate not in self.substrates:
                raise self._bad("necrosis_threshold", f"necrosis needs the substrate '{self.oxygen_substrate}' "
                                                      f"(oxygen_substrate) in 'substrates' (it has "
                                                      f"{sorted(self.substrates) or 'none'})")
            if self.necrosis_max >= self.necrosis_threshold:
                raise self._bad("necrosis_max", f"{self.necrosis_max} must lie below necrosis_threshold="
                                                f"{self.necrosis_threshold}")
        if self.positions is not None and len(self.positions[0]) != self.dim:
            raise self._bad("positions", f"points have {len(self.positions[0])} coordinates but dim={self.dim}")
        if self.network_initial is not None and (
                len(self.network_initial) != len(self.network_species)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.network_initial)):
            raise self._bad("network_initial", f"give {len(self.network_species)} numbers, one per network_species "
                                               f"{list(self.network_species)}, got {self.network_initial!r}")
        clash = set(self.network_species) & {"cycle_modifier", "death_modifier"}
        if clash:
            raise self._bad("network_species", f"{sorted(clash)} are reserved names")

    def time_step(self) -> float:
        """The mechanics step."""
        return float(self.dt_mechanics)

    # -- agents and ports -----------------------------------------------------
    def declare_agent_sets(self) -> list[msm.AgentSet]:
        """One set, ``cells``."""
        return [msm.AgentSet("cells", dim=self.dim)]

    def declare_ports(self) -> list[msm.Port]:
        """Agent ports (see the class docstring)."""
        a: dict[str, Any] = {"agents": "cells"}
        vol_units = "um^3" if self.dim == 3 else "um^2"
        ports = [msm.Port.output("positions_out", components=self.dim, units="um", doc="cell centres", **a),
                 msm.Port.output("volumes_out", units=vol_units, doc="cell volumes (2D: disc areas)", **a),
                 msm.Port.output("phase_out", units="1", doc="phase index; -1 apoptotic, -2 necrotic", **a)]
        for s, spec in self.substrates.items():
            u = spec["units"]
            ports += [msm.Port.output(f"uptake_{s}_out", units="1/min", doc=f"uptake rate constant of {s}", **a),
                      msm.Port.output(f"secretion_{s}_out", units=f"{u}/min",
                                      doc=f"secretion of {s} per unit cell volume", **a),
                      msm.Port.input(f"concentration_{s}_in", units=u, required=False,
                                     doc=f"{s} at each cell", **a)]
        ports += [msm.Port.input(p, units="1", required=False, doc="per-cell rate multiplier", **a)
                  for p in _MODIFIERS]
        if self.network_species:
            k = len(self.network_species)
            names: dict[str, Any] = {"value_names": self.network_species, "value_dim": "species"}
            ports += [msm.Port.input("network_in", components=k, required=False, doc="the network's state", **a,
                                     **names),
                      msm.Port.output("network_out", components=k, doc="network state with local substrates",
                                      **a, **names)]
        return ports

    def _params(self) -> PhenotypeParams:
        return PhenotypeParams(
            cycle=self._cycle, apoptosis_rate=self.apoptosis_rate, apoptosis_duration=self.apoptosis_duration,
            necrosis_threshold=self.necrosis_threshold, necrosis_max=self.necrosis_max,
            necrosis_rate=self.necrosis_rate, necrosis_duration=self.necrosis_duration,
            target_volume=self.target_volume, growth_rate=self.growth_rate,
            apoptotic_shrink_rate=self.apoptotic_shrink_rate, necrotic_shrink_rate=self.necrotic_shrink_rate,
            repulsion=self.repulsion, adhesion=self.adhesion,
            relative_adhesion_distance=self.relative_adhesion_distance)

    def _initial_positions(self) -> np.ndarray:
        if self.positions is not None:
            return np.array(self.positions, dtype=float)
        r = float(radius_of(self.target_volume))
        h = equilibrium_distance(2 * r, self.repulsion, self.adhesion, self.relative_adhesion_distance) \
            if self.adhesion < self.repulsion else 2 * r
        side = int(np.ceil(self.count ** (1 / self.dim))) + 2
        axis = np.arange(-side, side + 1)
        grid = np.stack(np.meshgrid(*[axis] * self.dim, indexing="ij"), -1).reshape(-1, self.dim)
        order = np.lexsort((*grid.T[::-1], np.sum(grid**2, axis=1)))  # nearest first, ties by coordinates
        return grid[order[: self.count]] * h

    # -- lifecycle ------------------------------------------------------------
    def initialize(self) -> None:
        """Place the initial cells (new ids 0 .. n-1) and write the outputs."""
        x = self._initial_positions()
        cells = self.agent_set("cells")
        ids = cells.add(len(x))
        self._pop = Population(x, self._params(), self.seed, ids=ids)
        self._received = set()
        self._write()

    def receive(self, port: str) -> None:
        """Remember which inputs are connected (unconnected ones take their defaults)."""
        self._received.add(port)

    @property
    def population(self) -> Population:
        """The cells' engine (arrays in the agent set's order)."""
        if self._pop is None:
            raise msm.CouplingError(f"component '{self.name}' is not initialized")
        return self._pop

    def _input(self, port: str, default: float) -> np.ndarray:
        if port not in self._received:
            return np.full(self.population.count, default)
        return np.array(self.port_array(port), dtype=float).reshape(-1)

    def advance(self, t_end: float) -> None:
        """Mechanics steps to ``t_end``, a phenotype step after every ``dt_phenotype / dt_mechanics``-th."""
        pop = self.population
        span = t_end - self.t
        n = int(round(span / self.dt_mechanics))
        if n < 0 or abs(n * self.dt_mechanics - span) > 1e-9 * max(abs(span), self.dt_mechanics):
            raise msm.CouplingError(f"component '{self.name}': the window from t={self.t} to {t_end} min is not a "
                                    f"whole number of dt_mechanics={self.dt_mechanics} min; choose a window that "
                                    "is (e.g. a multiple of dt_phenotype)")
        cells = self.agent_set("cells")
        ox = self.oxygen_substrate
        for _ in range(n):
            pop.mechanics_step(self.dt_mechanics)
            pop.mech_count += 1
            if pop.mech_count % self._every:
                continue
            oxygen = None
            if self.necrosis_threshold is not None:
                oxygen = self._input(f"concentration_{ox}_in", self.substrates[ox]["default"])
            ev = pop.phenotype_step(self.dt_phenotype, oxygen=oxygen,
                                    cycle_modifier=self._input("cycle_modifier_in", 1.0),
                                    death_modifier=self._input("death_modifier_in", 1.0),
                                    id_source=cells.divide)
            if len(ev.removed):
                cells.remove(ev.removed)
            if not np.array_equal(pop.ids, cells.ids):
                raise msm.CouplingError(f"component '{self.name}': the cells' order left the agent set's")
        self.t = t_end
        self._write()

    def _write(self) -> None:
        pop = self.population
        live = pop.live
        self.port_array("positions_out")[...] = pop.positions
        r = pop.radius
        self.port_array("volumes_out")[...] = pop.volume if self.dim == 3 else np.pi * r * r
        self.port_array("phase_out")[...] = pop.phase
        for s, spec in self.substrates.items():
            self.port_array(f"uptake_{s}_out")[...] = np.where(live, spec["uptake"], 0.0)
            self.port_array(f"secretion_{s}_out")[...] = np.where(live, spec["secretion"], 0.0)
        if self.network_species:
            out = self.port_array("network_out")
            if "network_in" in self._received:
                out[...] = self.port_array("network_in")
            else:
                out[...] = 0.0 if self.network_initial is None else np.asarray(self.network_initial, dtype=float)
            for k, sp in enumerate(self.network_species):
                if sp in self.substrates:
                    out[:, k] = self._input(f"concentration_{sp}_in", self.substrates[sp]["default"])

    # -- state ----------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """``t``, the population's arrays and counters, the received inputs and every port array.

        The agent set itself is saved alongside by msmcore (restored before :meth:`restore_state`).
        """
        return {"t": self.t, "population": self.population.state(), "received": sorted(self._received),
                "ports": {p: np.array(self.port_array(p), copy=True) for p in self.ports}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a :meth:`save_state` snapshot exactly (the agent set must already be restored)."""
        try:
            t, pop, received, ports = state["t"], state["population"], state["received"], state["ports"]
        except (KeyError, TypeError):
            raise msm.ConfigurationError(f"component '{self.name}' cannot restore {type(state).__name__}: not a "
                                         "snapshot from its save_state()") from None
        if self._pop is None:
            self._pop = Population(np.zeros((0, self.dim)), self._params(), self.seed)
        self._pop.set_state(pop)
        if not np.array_equal(self._pop.ids, self.agent_set("cells").ids):
            raise msm.ConfigurationError(f"component '{self.name}': the snapshot's cells are not those of the "
                                         "agent set (restore the set first)")
        self._received = set(received)
        for p, arr in ports.items():
            self.set_agent_array(p, arr)
        self.t = float(t)

    def finalize(self) -> None:
        """Nothing to release (the arrays stay readable)."""
