"""The ``md.lj`` component: a Lennard-Jones (or Morse) fluid on OpenMM, coarse-grained on slabs."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

import msmcore as msm
from msm_md import units as U
from msm_md._convert import axes_string, float3, index_tuple, int3, positive_float
from msm_md.external import (
    AXES,
    PAIR_GROUP,
    open_boundary,
    slab_body_force,
    update_slab_body_force,
    wall_93,
    wall_93_energy,
)
from msm_md.geometry import BOUNDARIES, Geometry
from msm_md.integrators import build_integrator, set_step, set_velocity_shift
from msm_md.pairs import pair_terms
from msm_md.potentials import PairPotential
from msmcore.component import substeps
from msmcore.mapping.particles import (
    SlabAverager,
    SlabGrid,
    relax_slab_velocities,
    slab_means,
    slab_values_at_particles,
)

__all__ = ["LJFluid"]

logger = logging.getLogger(__name__)

_THERMOSTATS = ("auto", "none", "langevin", "nose-hoover", "andersen", "rescale")


class LJFluid(msm.Component):
    """Lennard-Jones (or Morse) fluid on OpenMM, averaged on slabs, with continuum constraints.

    Reduced units throughout (σ = ε = m = k_B = 1; :mod:`msm_md.units` gives
    the mapping onto OpenMM's units). The fluid starts on an FCC lattice
    (:mod:`msm_md.geometry`), periodic in ``periodic`` and bounded by walls or
    an open side along the one other axis. Each :meth:`advance` is one
    averaging window: particle data are sampled every ``sample_interval``
    steps and the pair virial every ``stress_interval`` steps, and the output
    ports hold the window averages on ``n_bins`` slabs along ``bin_axis``
    (:mod:`msmcore.mapping.particles` says how each is averaged). Inputs impose a mean
    velocity on the ``constraint_bins`` after every step (Nie et al. 2004;
    :mod:`msmcore.mapping.particles`), a body force per slab, and the pressure of the
    open side's boundary force.

    Ports
    -----
    density_out, velocity_out, temperature_out, pressure_out, stress_out, counts_out (outputs)
        Window averages per slab; coordinates: the slab centres along ``bin_axis``, in σ
        (``coord_units="sigma"``, the reduced length unit of :mod:`msm_md.units`).
    velocity_in (input, when ``constraint_bins`` is set)
        Imposed mean velocity of each constraint slab, ``(len(constraint_bins), 3)``.
    force_in (input)
        Body force on each particle in each slab, ``(n_bins, 3)``.
    boundary_pressure_in (input, when a side is ``"open"``)
        ``p0`` of the open side's boundary force.

    Notes
    -----
    State (:meth:`save_state`): an OpenMM checkpoint - positions, velocities,
    box, integrator variables and, as OpenMM documents for its checkpoints
    (``CheckpointReporter``), the internal state of its random number
    generators, i.e. of the Langevin noise - plus the step count, ``t``, the
    port arrays, the window's thermodynamic averages, the inputs not yet
    applied and the pending constraint shift. Window averages start afresh at
    every :meth:`advance`.

    Lifetime: :meth:`finalize` releases the OpenMM context; :meth:`initialize`
    builds a new one from the settings (the same ``seed``), so a new run
    repeats the first.
    """

    # -- the fluid ------------------------------------------------------------------
    potential = msm.Setting(str, default="lj", choices=("lj", "morse"), doc="pair potential")
    cutoff = msm.Setting(positive_float, default=2.5, units=U.LENGTH, doc="pair cut-off r_c")
    truncation = msm.Setting(str, default="auto", choices=("auto", "lrc", "truncated", "shifted"),
                             doc="cut-off treatment; auto: lrc when fully periodic, else truncated")
    morse_depth = msm.Setting(positive_float, default=1.0, units=U.ENERGY, doc="Morse well depth D")
    morse_alpha = msm.Setting(positive_float, default=6.0, units="1/sigma", doc="Morse stiffness a")
    morse_r0 = msm.Setting(positive_float, default=2.0 ** (1.0 / 6.0), units=U.LENGTH, doc="Morse minimum r0")
    density = msm.Setting(positive_float, default=0.8, units=U.NUMBER_DENSITY, doc="number density of the fluid")
    temperature = msm.Setting(positive_float, default=1.0, units=U.TEMPERATURE, doc="target / initial temperature")
    cells = msm.Setting(int3, default=(4, 4, 4), doc="FCC cells per axis (4 particles each)")
    n_particles = msm.Setting(int, default=0, minimum=0,
                              doc="particles in a cubic periodic box instead of cells (0: use cells)")
    # -- the box ---------------------------------------------------------------------
    periodic = msm.Setting(axes_string, default="xyz", doc="periodic axes; the one left out is bounded")
    lower_boundary = msm.Setting(str, default="lattice", choices=BOUNDARIES,
                                 doc="the non-periodic axis' lower side (at 0)")
    upper_boundary = msm.Setting(str, default="lattice", choices=BOUNDARIES,
                                 doc="the non-periodic axis' upper side (at H)")
    wall_epsilon = msm.Setting(positive_float, default=1.0, units=U.ENERGY, doc="fluid-wall interaction strength")
    wall_layers = msm.Setting(int, default=0, minimum=0, doc="atomic planes per lattice wall (0: enough for r_c)")
    open_width = msm.Setting(positive_float, default=1.0, units=U.LENGTH, doc="layer of the open-side force")
    boundary_pressure = msm.Setting(float, default=1.0, units=U.PRESSURE, doc="p0 of the open-side force")
    # -- dynamics --------------------------------------------------------------------
    dt = msm.Setting(positive_float, default=0.005, units=U.TIME, doc="MD time step")
    integrator = msm.Setting(str, default="langevin", choices=("langevin", "verlet"), doc="BAOAB or velocity Verlet")
    thermostat = msm.Setting(str, default="auto", choices=_THERMOSTATS,
                             doc="auto: langevin for integrator=langevin, none for verlet")
    thermostat_rate = msm.Setting(positive_float, default=1.0, units="1/tau",
                                  doc="Langevin friction / Andersen or Nose-Hoover collision frequency")
    thermostat_axes = msm.Setting(axes_string, default="xyz", doc="components thermostatted (langevin, rescale)")
    rescale_interval = msm.Setting(int, default=10, minimum=1, doc="steps between velocity rescalings")
    seed = msm.Setting(int, default=1, minimum=0, doc="random seed (velocities, Langevin noise)")
    equilibrate = msm.Setting(int, default=0, minimum=0,
                              doc="steps run in initialize() before t = 0, velocities rescaled to the target")
    melt_temperature = msm.Setting(float, default=0.0, minimum=0.0, units=U.TEMPERATURE,
                                   doc="if > 0: the first half of 'equilibrate' runs at this temperature")
    threads = msm.Setting(int, default=1, minimum=1, doc="OpenMM CPU threads")
    platform = msm.Setting(str, default="CPU", doc="OpenMM platform name")
    # -- coupling ----------------------------------------------------------------------
    bin_axis = msm.Setting(str, default="auto", choices=("auto", "x", "y", "z"),
                           doc="slab normal; auto: the non-periodic axis, else z")
    n_bins = msm.Setting(int, default=10, minimum=1, doc="slabs along bin_axis")
    sample_interval = msm.Setting(int, default=2, minimum=1, doc="steps between samples of particle data")
    stress_interval = msm.Setting(int, default=10, minimum=1, doc="steps between samples of the pair virial")
    constraint_bins = msm.Setting(index_tuple, default=(), doc="slabs whose mean velocity is imposed")
    constraint_xi = msm.Setting(positive_float, default=1.0, maximum=1.0, doc="relaxation fraction per step")
    constraint_components = msm.Setting(axes_string, default="xyz", doc="velocity components imposed")
    constraint_velocity = msm.Setting(float3, default=(0.0, 0.0, 0.0), units=U.VELOCITY,
                                      doc="imposed velocity until velocity_in is received")
    body_force = msm.Setting(float3, default=(0.0, 0.0, 0.0), units=U.FORCE,
                             doc="body force per particle in every slab until force_in is received")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        self._normal = self._check_box()
        self._kind, self._thermostat = self._check_dynamics()
        self.geometry = Geometry(
            density=self.density, cells=self.cells, n_particles=self.n_particles, normal=self._normal,
            lower=self.lower_boundary, upper=self.upper_boundary, wall_layers=self.wall_layers,
            cutoff=self.cutoff, open_width=self.open_width)
        self.pair_potential = self._check_potential()
        self.grid = self._check_bins()
        self._ctx: Any = None
        self._integrator: Any = None
        self._body: Any = None
        self._step = 0
        self._pending: set[str] = set()
        self._target_t, self._equilibrating = self.temperature, False
        self._shift: tuple[int, np.ndarray] | None = None
        self._shift_in_integrator = False
        self.thermo: dict[str, float] = {}

    # -- validation ------------------------------------------------------------------
    def _err(self, setting: str, message: str) -> msm.ConfigurationError:
        return msm.ConfigurationError(f"setting '{setting}' of component '{self.name}' (md.lj): {message}")

    def _check_box(self) -> int | None:
        missing = [i for i, c in enumerate(AXES) if c not in self.periodic]
        if len(missing) > 1:
            raise self._err("periodic", f"{self.periodic!r} leaves {len(missing)} axes bounded; md.lj "
                            "supports one bounded axis (a slab or channel): give two or three of 'xyz'")
        normal = missing[0] if missing else None
        if normal is None and (self.lower_boundary != "lattice" or self.upper_boundary != "lattice"):
            raise self._err("lower_boundary/upper_boundary", "boundaries apply to a non-periodic axis, but "
                            f"periodic={self.periodic!r} has none; leave one axis out of 'periodic'")
        if self.lower_boundary == "open" and self.upper_boundary == "open":
            raise self._err("lower_boundary/upper_boundary", "both sides are 'open'; keep at least one wall "
                            "('lattice' or 'lj93') to hold the fluid")
        if self.n_particles and normal is not None:
            raise self._err("n_particles", "n_particles makes a cubic periodic box; with a bounded axis give "
                            "'cells' (FCC cells per axis) instead")
        return normal

    def _check_dynamics(self) -> tuple[str, str]:
        kind, thermostat = self.integrator, self.thermostat
        if thermostat == "auto":
            thermostat = "langevin" if kind == "langevin" else "none"
        if kind == "langevin" and thermostat != "langevin":
            raise self._err("thermostat", f"integrator='langevin' is its own thermostat; got thermostat="
                            f"{thermostat!r}. Use integrator='verlet' with thermostat={thermostat!r}, or "
                            "thermostat='auto'")
        if kind == "verlet" and thermostat == "langevin":
            raise self._err("thermostat", "Langevin dynamics is integrator='langevin' (BAOAB); with "
                            "integrator='verlet' choose 'none', 'nose-hoover', 'andersen' or 'rescale'")
        if self.thermostat_axes != "xyz" and thermostat not in ("langevin", "rescale"):
            raise self._err("thermostat_axes", f"only the 'langevin' and 'rescale' thermostats act on chosen "
                            f"axes; thermostat {thermostat!r} acts on all (leave thermostat_axes='xyz')")
        if self.dt > 0.02:
            logger.warning("component '%s': dt=%g tau is large for Lennard-Jones dynamics (0.005 is usual)",
                           self.name, self.dt)
        return kind, thermostat

    def _check_potential(self) -> PairPotential:
        truncation = self.truncation
        if truncation == "auto":
            truncation = "lrc" if self._normal is None else "truncated"
        if truncation == "lrc" and self._normal is not None:
            raise self._err("truncation", "long-range corrections assume a uniform fluid filling a periodic "
                            "box; with walls use 'truncated' or 'shifted' (or a larger cutoff)")
        periodic_lengths = [(AXES[a], self.geometry.length[a]) for a in range(3) if self.geometry.periodic[a]]
        for axis, length in periodic_lengths:
            if self.cutoff > 0.5 * length:
                raise self._err("cutoff", f"cutoff={self.cutoff:g} exceeds half the periodic box length along "
                                f"{axis} ({length:.4g}/2); use more cells (or particles) or a smaller cutoff")
        return PairPotential(self.potential, self.cutoff, truncation, self.morse_depth, self.morse_alpha,
                             self.morse_r0)

    def _check_bins(self) -> SlabGrid:
        axis = self.bin_axis
        if axis == "auto":
            axis = AXES[self._normal] if self._normal is not None else "z"
        a = AXES.index(axis)
        g = self.geometry
        grid = SlabGrid(a, 0.0, float(g.length[a]), self.n_bins, float(g.cross_section[a]),
                        periodic=bool(g.periodic[a]))
        bad = [b for b in self.constraint_bins if not 0 <= b < self.n_bins]
        if bad:
            raise self._err("constraint_bins", f"slab(s) {bad} do not exist; slabs are 0..{self.n_bins - 1} "
                            f"along {axis} (edges {np.round(grid.edges, 4).tolist()})")
        if g.open_layer() is not None and not 0 < self.open_width < 0.5 * g.length[self._normal]:
            raise self._err("open_width", f"{self.open_width:g} must be below half the fluid height "
                            f"{g.length[self._normal]:.4g}")
        if self.sample_interval > self.stress_interval:
            logger.info("component '%s': the virial is sampled less often than velocities", self.name)
        return grid

    # -- ports ---------------------------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """Slab averages out; constraint velocities, body forces and open-side pressure in."""
        axis = AXES[self.grid.axis]
        centres = {axis: self.grid.centres}
        n = self.grid.n
        on_slabs: dict[str, Any] = {"coords": centres, "coord_units": U.LENGTH}  # slab centres, in sigma
        ports = [
            msm.Port.output("density_out", n, units=U.NUMBER_DENSITY, **on_slabs,
                            doc="number density per slab (= mass density, m = 1)"),
            msm.Port.output("velocity_out", n, components=3, units=U.VELOCITY, **on_slabs,
                            doc="mass-weighted mean velocity per slab"),
            msm.Port.output("temperature_out", n, units=U.TEMPERATURE, **on_slabs,
                            doc="temperature of the velocities relative to the slab mean"),
            msm.Port.output("pressure_out", n, units=U.PRESSURE, **on_slabs,
                            doc="trace/3 of the pressure tensor per slab"),
            msm.Port.output("stress_out", n, components=6, units=U.PRESSURE, **on_slabs,
                            doc="pressure tensor per slab, Voigt order xx yy zz yz xz xy"),
            msm.Port.output("counts_out", n, units="1", **on_slabs,
                            doc="particle-samples per slab in the window"),
            msm.Port.input("force_in", n, components=3, units=U.FORCE, **on_slabs, required=False,
                           doc="body force on each particle, per slab"),
        ]
        if self.constraint_bins:
            cb = {axis: self.grid.centres[list(self.constraint_bins)]}
            ports.append(msm.Port.input("velocity_in", len(self.constraint_bins), components=3,
                                        units=U.VELOCITY, coords=cb, coord_units=U.LENGTH, required=False,
                                        doc="imposed mean velocity of each constraint slab"))
        if self.geometry.open_layer() is not None:
            ports.append(msm.Port.input("boundary_pressure_in", 1, units=U.PRESSURE, required=False,
                                        doc="p0 of the open side's boundary force"))
        return ports

    # -- lifecycle -----------------------------------------------------------------------------
    def initialize(self) -> None:
        """Build the OpenMM system on the FCC lattice, draw velocities, optionally equilibrate."""
        try:
            import openmm
        except ImportError as exc:  # pragma: no cover - openmm is a dependency
            raise msm.ConfigurationError(
                f"component '{self.name}' (md.lj) needs OpenMM: pip install openmm ({exc})") from None
        if self.comm is not None and self.comm.Get_size() > 1:
            raise msm.ConfigurationError(
                f"component '{self.name}' (md.lj) runs on one process, but it was given "
                f"{self.comm.Get_size()} ranks; place it with nprocs=1 (or ranks=[k]) in Coupling.add "
                "and use the 'threads' setting for OpenMM's CPU parallelism")
        self.finalize()
        g = self.geometry
        fluid = g.fluid_positions()
        walls = g.wall_positions()
        self.n_fluid, n_wall = len(fluid), len(walls)
        positions = np.concatenate([fluid, walls])
        system = openmm.System()
        system.setDefaultPeriodicBoxVectors(*(openmm.Vec3(*(g.box[a] if b == a else 0.0 for b in range(3)))
                                              for a in range(3)))
        for i in range(len(positions)):
            system.addParticle(1.0 if i < self.n_fluid else 0.0)
        pair = self.pair_potential.openmm_force(self.n_fluid, n_wall, self.wall_epsilon,
                                                self.pair_potential.truncation == "lrc")
        pair.setForceGroup(PAIR_GROUP)
        system.addForce(pair)
        fluid_range = range(self.n_fluid)
        if g.wall_planes():
            assert self._normal is not None  # walls lie across the normal axis
            system.addForce(wall_93(self._normal, g.wall_planes(), self.wall_epsilon, self.cutoff, fluid_range))
        layer = g.open_layer()
        if layer is not None:
            assert self._normal is not None  # so does the open layer
            system.addForce(open_boundary(self._normal, layer[0], layer[1], self.boundary_pressure, fluid_range))
        self._body = None  # added when a non-zero body force first appears (it costs ~0.5 us per particle-step)
        if any(self.body_force):
            self._body = slab_body_force(self.grid, np.tile(self.body_force, (self.grid.n, 1)), fluid_range)
            system.addForce(self._body)
        rng = np.random.default_rng(self.seed)
        omm_seed = int(rng.integers(1, 2**31 - 1))
        axes = tuple(c in self.thermostat_axes for c in AXES)
        self._shift_in_integrator = bool(self.constraint_bins) and self._thermostat != "nose-hoover"
        integrator, extra = build_integrator(
            self._kind, self._thermostat, self.dt, self.temperature, self.thermostat_rate, axes,
            len(positions), omm_seed, velocity_shift=self._shift_in_integrator)
        self._shift = None
        for force in extra:
            system.addForce(force)
        try:
            platform = openmm.Platform.getPlatformByName(self.platform)
        except Exception:
            have = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
            raise self._err("platform", f"OpenMM has no platform {self.platform!r}; available: {have}") from None
        properties = {"Threads": str(self.threads), "DeterministicForces": "true"} if self.platform == "CPU" else {}
        self._system, self._integrator = system, integrator
        self._ctx = openmm.Context(system, integrator, platform, properties)
        self._ctx.setPositions(positions)
        self._masses = np.ones(self.n_fluid)
        v = np.zeros_like(positions)
        v[: self.n_fluid] = self._maxwell_boltzmann(rng)
        self._ctx.setVelocities(v)
        self._step, self.t = 0, 0.0
        self._averager = SlabAverager(self.grid)
        for name, arr in self.inputs.items():
            if name == "velocity_in":
                arr[...] = np.asarray(self.constraint_velocity)[None, :]
            elif name == "force_in":
                arr[...] = np.asarray(self.body_force)[None, :]
            elif name == "boundary_pressure_in":
                arr[...] = self.boundary_pressure
        self._pending = set(self.inputs)
        self._target_t, self._equilibrating = self.temperature, False
        if self.equilibrate:
            self._apply_inputs()
            self._equilibrate()
        self._begin_window()
        self._sample(virial=True)
        self._publish()
        logger.info("component '%s': %d particles (%s), box %s sigma, %s, %s integrator, thermostat %s",
                    self.name, self.n_fluid, f"{n_wall} wall atoms" if n_wall else "no walls",
                    np.round(g.box, 3).tolist(), self.pair_potential.describe(), self._kind, self._thermostat)

    def _equilibrate(self) -> None:
        """Run ``equilibrate`` steps (time stays 0), rescaling velocities every ``rescale_interval``
        steps on top of the thermostat; melt first at ``melt_temperature`` when it is set."""
        self._equilibrating = True
        hot = self.equilibrate // 2 if self.melt_temperature > 0 else 0
        if hot:
            self._set_target(self.melt_temperature)
            self._run(hot, self.dt, sample=False)
            self._set_target(self.temperature)
        self._run(self.equilibrate - hot, self.dt, sample=False)
        self._equilibrating = False
        self._step = 0

    def _set_target(self, temperature: float) -> None:
        """Change the thermostat's target temperature (used while equilibrating)."""
        import openmm

        self._target_t = temperature
        if self._thermostat == "langevin":
            self._integrator.setGlobalVariableByName("kT", temperature)
        elif self._thermostat == "andersen":
            self._ctx.setParameter(openmm.AndersenThermostat.Temperature(), U.kelvin(temperature))
        elif self._thermostat == "nose-hoover":
            self._integrator.setTemperature(U.kelvin(temperature))

    def _maxwell_boltzmann(self, rng: np.random.Generator) -> np.ndarray:
        v = rng.normal(0.0, np.sqrt(self.temperature), size=(self.n_fluid, 3))
        v -= v.mean(axis=0)
        dof = 3 * self.n_fluid - 3
        v *= np.sqrt(self.temperature * dof / np.sum(v * v))
        return v

    def receive(self, port: str) -> None:
        """Remember that an input changed; it takes effect at the start of the next :meth:`advance`.

        ``velocity_in`` is read at every step; ``force_in`` and
        ``boundary_pressure_in`` are copied into OpenMM once per window.
        """
        self.port(port)
        self._pending.add(port)

    def time_step(self) -> float:
        """The MD step ``dt``."""
        return float(self.dt)

    def advance(self, t_end: float) -> None:
        """Run MD from ``t`` to ``t_end``: one averaging window; the outputs are its averages."""
        if self._ctx is None:
            raise msm.CouplingError(f"component '{self.name}': advance() called before initialize()")
        h, n = substeps(self.t, t_end, self.dt)
        if n == 0:
            return
        set_step(self._integrator, h)
        self._apply_inputs()
        self._begin_window()
        self._run(n, h, sample=True)
        if self._averager.samples == 0 or self._averager.virial_samples == 0:
            self._sample(virial=self._averager.virial_samples == 0, kinetic=self._averager.samples == 0)
        self.t = t_end
        self._publish()

    # -- the MD loop ------------------------------------------------------------------------------
    def _apply_inputs(self) -> None:
        if "force_in" in self._pending:
            values = self.port_array("force_in")
            if self._body is None and np.any(values):
                self._body = slab_body_force(self.grid, values, range(self.n_fluid))
                self._system.addForce(self._body)
                self._ctx.reinitialize(preserveState=True)
            elif self._body is not None:
                update_slab_body_force(self._body, values, self._ctx)
        if "boundary_pressure_in" in self._pending:
            self._ctx.setParameter("p0_open", float(self.port_array("boundary_pressure_in")[0]))
        self._pending.clear()

    def _run(self, n: int, h: float, sample: bool) -> None:
        """``n`` steps of length ``h``; constraint, rescaling and samples on their steps."""
        every_step = bool(self.constraint_bins)
        rescaling = self._thermostat == "rescale" or self._equilibrating
        intervals = [self.rescale_interval] if rescaling else []
        if sample:
            intervals += [self.sample_interval, self.stress_interval]
        done = 0
        while done < n:
            k = 1 if every_step else min([n - done] + [iv - self._step % iv for iv in intervals])
            self._integrator.step(k)
            done += k
            self._step += k
            if not every_step and not any(self._step % iv == 0 for iv in intervals):
                continue
            x, v = self._state()
            index = self.grid.index(x[: self.n_fluid])
            changed = False
            if every_step:
                changed = self._constrain(v, index)
            if rescaling and self._step % self.rescale_interval == 0:
                self._rescale(v[: self.n_fluid], index)
                changed = True
            if changed:
                self._ctx.setVelocities(v)  # v includes any pending shift, so drop it
                if self._shift is not None:
                    set_velocity_shift(self._integrator, np.zeros_like(v))
                    self._shift = None
            if sample:
                kinetic = self._step % self.sample_interval == 0
                virial = self._step % self.stress_interval == 0
                if kinetic or virial:
                    self._sample(virial=virial, kinetic=kinetic, state=(x, v, index))

    def _constrain(self, v: np.ndarray, index: np.ndarray) -> bool:
        """Nie et al.'s constraint on ``v`` (all particles; changed in place). Returns whether
        OpenMM's velocities must be set; otherwise the shift is left pending in the integrator,
        which adds it at the start of the next step."""
        before = v[: self.n_fluid].copy()
        relax_slab_velocities(v[: self.n_fluid], index, self._masses, np.array(self.constraint_bins),
                              self.port_array("velocity_in"), self.constraint_xi,
                              tuple(AXES.index(c) for c in self.constraint_components))
        if not self._shift_in_integrator:
            return True
        shift = v[: self.n_fluid] - before
        full = np.zeros_like(v)
        full[: self.n_fluid] = shift
        set_velocity_shift(self._integrator, full)
        self._shift = (self._step, shift)
        return False

    def _sync_shift(self) -> None:
        """Make the integrator's pending velocity shift match ``self._shift`` (after a rebuild)."""
        if self._shift_in_integrator:
            full = np.zeros((self._system.getNumParticles(), 3))
            if self._shift is not None:
                full[: self.n_fluid] = self._shift[1]
            set_velocity_shift(self._integrator, full)

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities now (velocities with any constraint shift still pending)."""
        state = self._ctx.getState(getPositions=True, getVelocities=True)
        x = np.asarray(state.getPositions(asNumpy=True)._value, dtype=np.float64)
        v = np.asarray(state.getVelocities(asNumpy=True)._value, dtype=np.float64)
        if self._shift is not None and self._shift[0] == self._step:
            v[: self.n_fluid] += self._shift[1]
        return x, v

    def _rescale(self, v: np.ndarray, index: np.ndarray) -> None:
        """Scale velocities relative to their slab's mean to the target temperature (chosen axes)."""
        means, _ = slab_means(index, v, self._masses, np.arange(self.grid.n))
        peculiar = v - slab_values_at_particles(index, means)
        axes = [0, 1, 2] if self._equilibrating else [AXES.index(c) for c in self.thermostat_axes]
        current = np.sum(peculiar[:, axes] ** 2) / (len(axes) * self.n_fluid)
        if current > 0:
            v[:, axes] += peculiar[:, axes] * (np.sqrt(self._target_t / current) - 1.0)

    # -- averaging --------------------------------------------------------------------------------
    def _begin_window(self) -> None:
        self._averager.reset()
        self._sums = np.zeros(4)  # temperature, kinetic energy/N over kinetic samples; U/N, P over virial samples
        self._n_kin = self._n_vir = 0

    @property
    def _dof(self) -> int:
        conserving = (self._normal is None and self._kind == "verlet"
                      and self._thermostat in ("none", "nose-hoover") and not self.constraint_bins)
        return 3 * self.n_fluid - (3 if conserving else 0)

    def _sample(self, virial: bool, kinetic: bool = True,
                state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        if state is None:
            x, v = self._state()
            index = self.grid.index(x[: self.n_fluid])
        else:
            x, v, index = state
        vf = v[: self.n_fluid]
        two_k = float(np.sum(self._masses[:, None] * vf * vf))
        if kinetic:
            self._averager.add(x[: self.n_fluid], vf, self._masses, index=index)
            self._sums[0] += two_k / self._dof
            self._sums[1] += 0.5 * two_k / self.n_fluid
            self._n_kin += 1
        if virial:
            g = self.geometry
            terms = pair_terms(x, self.n_fluid, g.box, g.periodic, self.pair_potential, self.wall_epsilon)
            self._averager.add_virial(index, terms.particle_virial)
            rho = self.n_fluid / g.volume
            energy = terms.energy
            if g.wall_planes():
                energy += wall_93_energy(x[: self.n_fluid, self._normal], g.wall_planes(), self.wall_epsilon,
                                         self.cutoff)
            u = energy / self.n_fluid + self.pair_potential.tail_energy_per_particle(rho)
            p = ((two_k + terms.virial[:3].sum()) / (3.0 * g.volume) + self.pair_potential.tail_pressure(rho))
            self._sums[2] += u
            self._sums[3] += p
            self._n_vir += 1

    def _publish(self) -> None:
        avg = self._averager.result()
        lrc = self.pair_potential.truncation == "lrc"
        self.port_array("density_out")[...] = avg.density
        self.port_array("velocity_out")[...] = avg.velocity
        self.port_array("temperature_out")[...] = avg.temperature
        stress = avg.stress.copy()
        if lrc:  # the isotropic tail pressure at each slab's density
            stress[:, :3] += np.array([self.pair_potential.tail_pressure(r) for r in avg.density])[:, None]
        self.port_array("stress_out")[...] = stress
        self.port_array("pressure_out")[...] = stress[:, :3].mean(axis=1)
        self.port_array("counts_out")[...] = avg.counts
        n_kin, n_vir = max(self._n_kin, 1), max(self._n_vir, 1)
        self.thermo = {
            "temperature": float(self._sums[0] / n_kin),
            "kinetic_energy": float(self._sums[1] / n_kin),
            "potential_energy": float(self._sums[2] / n_vir),
            "pressure": float(self._sums[3] / n_vir),
            "total_energy": float(self._sums[1] / n_kin + self._sums[2] / n_vir),
            "samples": float(self._n_kin),
            "virial_samples": float(self._n_vir),
        }

    # -- access -------------------------------------------------------------------------------------
    def positions(self) -> np.ndarray:
        """Current fluid positions (unwrapped), ``(N, 3)`` in σ."""
        return self._state()[0][: self.n_fluid]

    def velocities(self) -> np.ndarray:
        """Current fluid velocities, ``(N, 3)`` in σ/τ."""
        return self._state()[1][: self.n_fluid]

    def set_velocities(self, velocities: np.ndarray) -> None:
        """Replace the fluid velocities, ``(N, 3)`` in σ/τ (e.g. a start profile for a shear run).

        The velocities given are the whole new velocities: a constraint shift still pending
        from the last step is dropped, not added on top.
        """
        if self._ctx is None:
            raise msm.CouplingError(f"component '{self.name}': set_velocities() called before initialize()")
        v_new = np.asarray(velocities, dtype=np.float64)
        if v_new.shape != (self.n_fluid, 3):
            raise msm.CouplingError(f"component '{self.name}' (md.lj): set_velocities() got shape "
                                    f"{v_new.shape}, expected ({self.n_fluid}, 3) (one row per fluid particle)")
        v = self._state()[1]
        v[: self.n_fluid] = v_new
        self._ctx.setVelocities(v)
        if self._shift_in_integrator:
            set_velocity_shift(self._integrator, np.zeros_like(v))
        self._shift = None

    @property
    def steps(self) -> int:
        """MD steps taken since t = 0."""
        return self._step

    @property
    def context(self) -> Any:
        """The OpenMM ``Context`` (for inspection; changing it bypasses the component)."""
        return self._ctx

    # -- state -----------------------------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Snapshot: an OpenMM checkpoint (positions, velocities, box, integrator and RNG state),
        the step count, time and port arrays.

        The context is rebuilt from the checkpoint right away
        (``reinitialize(preserveState=True)``) and again on restore, so the run
        after a save and the run after a restore start from identical OpenMM
        internals (neighbour lists, atom order) and repeat bit for bit.
        """
        if self._ctx is None:
            raise msm.CouplingError(f"component '{self.name}': save_state() called before initialize()")
        checkpoint = self._ctx.createCheckpoint()
        self._ctx.reinitialize(preserveState=True)
        self._sync_shift()
        return {
            "checkpoint": checkpoint,
            "t": self.t,
            "step": self._step,
            "arrays": {k: v.copy() for k, v in self._arrays.items()},
            "thermo": dict(self.thermo),
            "pending": set(self._pending),
            "shift": None if self._shift is None else (self._shift[0], self._shift[1].copy()),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Return to a :meth:`save_state` snapshot; inputs are re-applied at the next advance."""
        self._ctx.loadCheckpoint(state["checkpoint"])
        self._ctx.reinitialize(preserveState=True)
        self.t, self._step = state["t"], state["step"]
        for k, v in state["arrays"].items():
            self.port_array(k)[...] = v
        self.thermo = dict(state["thermo"])
        self._shift = None if state["shift"] is None else (state["shift"][0], state["shift"][1].copy())
        self._sync_shift()
        self._pending = set(state["pending"]) | {p for p in ("force_in", "boundary_pressure_in") if p in self.ports}

    def finalize(self) -> None:
        """Release the OpenMM context; the port arrays stay readable."""
        if self._ctx is not None:
            del self._ctx
        self._ctx = None
        self._integrator = None
