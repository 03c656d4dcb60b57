"""The ``md.openmm`` component: any OpenMM system, with an optional QM region for QM/MM coupling."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

import msmcore as msm
from msm_md._convert import index_tuple, positive_float
from msm_md.openmm_dynamics import (
    FULL,
    KICK_DRIFT,
    build_integrator,
    set_external,
    set_step,
    step_energies,
)
from msm_md.openmm_qmregion import QMSurgery, carve_qm_region, molecules, select_qm_atoms
from msm_md.openmm_system import CONSTRAINTS, NONBONDED_METHODS, LoadedSystem, load_system
from msmcore.component import substeps
from msmcore.settings import Converter

__all__ = ["OpenMMSystem", "minimum_image"]

logger = logging.getLogger(__name__)

_AVOGADRO = 6.02214076e23
_KJ_PER_MOL_K = 0.0083144626  # R in kJ/(mol K)


def _file_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(str(v) for v in value)
    if any(not v.strip() for v in out):
        raise ValueError(f"{value!r} has an empty file name")
    return out


file_list = Converter("a file name or a list of them", _file_list)


def minimum_image(vectors: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Shift displacement ``vectors`` (``(n, 3)``) to their nearest periodic image.

    ``box`` holds OpenMM's reduced box vectors as rows (``a`` along x, ``b`` in
    the xy plane, ``c`` anywhere with ``a_x ≥ 2|b_x|`` ...), for which removing
    whole multiples of ``c``, then ``b``, then ``a`` gives the nearest image of a
    rectangular box exactly and of a triclinic one as OpenMM does.
    """
    d = np.array(vectors, dtype=np.float64, copy=True)
    for axis in (2, 1, 0):
        d -= np.round(d[:, axis] / box[axis, axis])[:, None] * box[axis][None, :]
    return d


class OpenMMSystem(msm.Component):
    """Any OpenMM system (structure + force-field XML files, or a serialized System); QM/MM ports.

    Units are OpenMM's: nm, ps, kJ/mol, e, K. The structure (PDB/mmCIF) gives
    topology, positions and box; ``forcefield`` names OpenMM force-field XML
    files (``["amber14-all.xml", "amber14/tip3p.xml"]``) or ``system_xml`` a
    serialized ``System``. ``integrator="langevin"`` (the LangevinMiddle scheme;
    with ``pressure > 0`` a MonteCarloBarostat) or ``"verlet"`` (NVE, velocity
    Verlet split so that external forces enter both half kicks; see
    :mod:`msm_md.openmm_dynamics`).

    With a QM region (``qm_residues`` / ``qm_atoms``: whole molecules) the QM
    atoms' internal terms, their charges and QM-QM Lennard-Jones are removed
    from the system (:mod:`msm_md.openmm_qmregion`) - QM-MM Lennard-Jones stays
    - and the component exchanges with a quantum-chemistry component:

    Ports
    -----
    energy_out (1,), kJ/mol; kinetic_out (1,), kJ/mol
        Potential energy of the (carved) OpenMM system, external forces excluded, and kinetic
        energy, both at the *start of the window's last step* (``t - dt``; at ``t = 0`` after
        :meth:`initialize`). That is when ``verlet``'s on-step kinetic energy exists - once the
        forces at those positions have arrived - and it is the time of the positions a QM
        component run first in the same window used: its energy plus these two is the
        conserved total energy, all from one result row. The values come from the step's
        own force evaluation (no extra one).
    temperature_out (1,), K; density_out (1,), g/cm^3
        Temperature from ``kinetic_out``; mass density at ``t``.
    qm_positions_out (n_qm, 3), nm
        QM atom positions (molecules whole).
    mm_positions_out (n_mm, 3), nm; mm_charges_out (n_mm,), e
        The MM atoms (every atom outside the QM region, in index order) with
        their force-field charges; positions are the nearest periodic image of
        each MM *molecule* (``image="molecule"``, by its centroid) or atom around
        the QM centroid.
    qm_forces_in (n_qm, 3), mm_forces_in (n_mm, 3), kJ/mol/nm
        External forces added to OpenMM's for the next step (not part of
        ``energy_out``).

    Notes
    -----
    State (:meth:`save_state`): an OpenMM checkpoint (positions, velocities,
    box, integrator variables, the RNG state), the step count, the pending half
    kick of ``verlet``, the external forces and the port arrays.
    :meth:`finalize` releases the context; :meth:`initialize` rebuilds
    everything from the settings, so a new run repeats the first.
    """

    # -- the system ------------------------------------------------------------------------
    structure = msm.Setting(str, doc="PDB or PDBx/mmCIF file: topology, positions, periodic box")
    forcefield = msm.Setting(file_list, default=(), doc="OpenMM force-field XML files (shipped names or paths)")
    system_xml = msm.Setting(str, default="", doc="a serialized openmm.System instead of 'forcefield'")
    state_xml = msm.Setting(str, default="", doc="an openmm.State XML to start from (positions, velocities, box)")
    final_state_xml = msm.Setting(str, default="", doc="write the final openmm.State XML here in finalize()")
    nonbonded = msm.Setting(str, default="pme", choices=tuple(NONBONDED_METHODS), doc="nonbonded method")
    cutoff = msm.Setting(positive_float, default=0.9, units="nm", doc="nonbonded cutoff")
    ewald_tolerance = msm.Setting(positive_float, default=5e-4, doc="PME / Ewald error tolerance")
    dispersion_correction = msm.Setting(bool, default=True, doc="long-range Lennard-Jones correction")
    constraints = msm.Setting(str, default="h-bonds", choices=tuple(CONSTRAINTS), doc="bond constraints")
    rigid_water = msm.Setting(bool, default=True, doc="rigid water molecules (SETTLE)")
    hydrogen_mass = msm.Setting(float, default=0.0, minimum=0.0, units="Da", doc="hydrogen mass (0: unchanged)")
    # -- dynamics --------------------------------------------------------------------------
    integrator = msm.Setting(str, default="langevin", choices=("langevin", "verlet"),
                             doc="Langevin (LangevinMiddle scheme) or split velocity Verlet (NVE)")
    dt = msm.Setting(positive_float, default=0.002, units="ps", doc="time step")
    temperature = msm.Setting(positive_float, default=298.15, units="K", doc="thermostat / initial temperature")
    friction = msm.Setting(positive_float, default=1.0, units="1/ps", doc="Langevin friction")
    pressure = msm.Setting(float, default=0.0, minimum=0.0, units="bar",
                           doc="MonteCarloBarostat pressure (0: constant volume)")
    barostat_interval = msm.Setting(int, default=25, minimum=1, doc="steps between barostat moves")
    seed = msm.Setting(int, default=1, minimum=1, doc="seed of the velocities, Langevin noise and barostat")
    minimize = msm.Setting(bool, default=False, doc="minimize the energy (original system) before t = 0")
    equilibrate = msm.Setting(int, default=0, minimum=0,
                              doc="Langevin steps on the original system (no QM region) before t = 0")
    equilibrate_dt = msm.Setting(positive_float, default=0.002, units="ps", doc="time step of 'equilibrate'")
    platform = msm.Setting(str, default="CPU", doc="OpenMM platform: CPU, Reference, CUDA, OpenCL, HIP")
    threads = msm.Setting(int, default=1, minimum=1, doc="CPU platform threads")
    precision = msm.Setting(str, default="mixed", choices=("single", "mixed", "double"),
                            doc="GPU platform precision")
    # -- QM region -------------------------------------------------------------------------
    qm_residues = msm.Setting(index_tuple, default=(), doc="residue indices (0-based) of the QM region")
    qm_atoms = msm.Setting(index_tuple, default=(), doc="atom indices (0-based) of the QM region")
    embed = msm.Setting(str, default="all", choices=("all", "none"),
                        doc="MM atoms sent to the embedding: all outside the QM region, or none")
    image = msm.Setting(str, default="molecule", choices=("molecule", "atom"),
                        doc="MM positions: nearest image of each molecule or atom around the QM centroid")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        if self.integrator == "verlet" and self.pressure > 0:
            raise self._err("pressure", "a barostat needs integrator='langevin' (verlet is constant energy "
                            "and volume); set pressure=0 or integrator='langevin'")
        if self.pressure > 0 and (self.qm_residues or self.qm_atoms):
            raise self._err("pressure", "the Monte Carlo barostat's acceptance test sees OpenMM's energy only, "
                            "not the QM region's: equilibrate the volume classically ('equilibrate' with "
                            "pressure, then a constant-volume QM/MM run), not with a QM region")
        # Built once (settings only): topology and the QM selection size the ports.
        self._loaded = self._load()
        self.qm_index = select_qm_atoms(self._loaded.topology, self._loaded.system, self.qm_residues,
                                        self.qm_atoms, self._where)
        n = self._loaded.n_atoms
        outside = np.setdiff1d(np.arange(n), self.qm_index)
        self.mm_index = outside if (len(self.qm_index) and self.embed == "all") else np.zeros(0, dtype=np.int64)
        self._ctx: Any = None
        self._integrator: Any = None
        self._fext = np.zeros((0, 3))
        self._step = 0
        self._kick_pending = False
        self.surgery = QMSurgery()
        #: Seconds summed over this run's advances: ``forces_in`` (external forces into OpenMM),
        #: ``md`` (OpenMM's steps), ``publish`` (reading the state, nearest images, ports).
        self.timings: dict[str, float] = {}

    @property
    def _where(self) -> str:
        return f"component '{self.name}' (md.openmm)"

    def _err(self, setting: str, message: str) -> msm.ConfigurationError:
        return msm.ConfigurationError(f"setting '{setting}' of {self._where}: {message}")

    def _load(self) -> LoadedSystem:
        return load_system(self.structure, self.forcefield, self.system_xml, nonbonded=self.nonbonded,
                           cutoff=self.cutoff, constraints=self.constraints, rigid_water=self.rigid_water,
                           ewald_tolerance=self.ewald_tolerance, dispersion_correction=self.dispersion_correction,
                           hydrogen_mass=self.hydrogen_mass, where=self._where)

    # -- ports -----------------------------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """Energies and thermodynamics out; with a QM region, QM/MM positions, charges and forces."""
        ports = [
            msm.Port.output("energy_out", 1, units="kJ/mol",
                            doc="potential energy of the OpenMM system at the last step's start"),
            msm.Port.output("kinetic_out", 1, units="kJ/mol", doc="kinetic energy at the last step's start"),
            msm.Port.output("temperature_out", 1, units="K", doc="instantaneous temperature"),
            msm.Port.output("density_out", 1, units="g/cm^3", doc="mass density"),
        ]
        n_qm, n_mm = len(self.qm_index), len(self.mm_index)
        if n_qm:
            ports += [
                msm.Port.output("qm_positions_out", n_qm, components=3, units="nm", doc="QM atom positions"),
                msm.Port.input("qm_forces_in", n_qm, components=3, units="kJ/mol/nm", required=False,
                               doc="external force on each QM atom"),
            ]
        if n_mm:
            ports += [
                msm.Port.output("mm_positions_out", n_mm, components=3, units="nm",
                                doc="MM positions, nearest image around the QM centroid"),
                msm.Port.output("mm_charges_out", n_mm, units="e", doc="MM force-field charges"),
                msm.Port.input("mm_forces_in", n_mm, components=3, units="kJ/mol/nm", required=False,
                               doc="external force on each MM atom"),
            ]
        return ports

    # -- lifecycle -------------------------------------------------------------------------
    def _platform(self) -> tuple[Any, dict[str, str]]:
        import openmm

        try:
            platform = openmm.Platform.getPlatformByName(self.platform)
        except Exception:
            have = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
            raise self._err("platform", f"OpenMM has no platform {self.platform!r} here; available: {have} "
                            "(CUDA needs an NVIDIA GPU and OpenMM's CUDA build)") from None
        if self.platform == "CPU":
            return platform, {"Threads": str(self.threads), "DeterministicForces": "true"}
        if self.platform in ("CUDA", "OpenCL", "HIP"):
            return platform, {"Precision": self.precision}
        return platform, {}

    def initialize(self) -> None:
        """Build the (carved) system and its context; minimize / equilibrate; draw velocities."""
        import openmm

        if self.comm is not None and self.comm.Get_size() > 1:
            raise msm.ConfigurationError(f"{self._where} runs on one process but was given {self.comm.Get_size()} "
                                         "ranks; place it with nprocs=1 and use 'threads' (or a GPU 'platform')")
        self.finalize()
        loaded = self._load()  # a fresh System each run (the surgery changes it)
        original = loaded.system
        system = openmm.XmlSerializer.clone(original)
        self.surgery = carve_qm_region(system, self.qm_index, self._where)
        self._masses = np.array([system.getParticleMass(i)._value for i in range(system.getNumParticles())])
        self._dof = self._degrees_of_freedom(system)
        charges = self._charges(original)
        self._mm_molecule = self._molecule_index(original)
        self._mm_molecule_size = np.bincount(self._mm_molecule).astype(np.float64)
        self._total_mass = float(np.sum(self._masses))
        if np.any(self._masses == 0):
            raise self._err("structure", "massless particles (virtual sites such as TIP4P's M, fixed atoms) "
                            "are not supported by md.openmm's integrators yet; use a model without them")
        if self.pressure > 0:
            system.addForce(openmm.MonteCarloBarostat(self.pressure, self.temperature, self.barostat_interval))
            system.getForce(system.getNumForces() - 1).setRandomNumberSeed(self.seed)
        self._fext = np.zeros((system.getNumParticles(), 3))
        platform, properties = self._platform()
        positions, velocities, box = self._starting_state(original, loaded, platform, properties)
        self._integrator = build_integrator(self.integrator, self.dt, self.temperature, self.friction, self.seed)
        self._system = system
        self._ctx = openmm.Context(system, self._integrator, platform, properties)
        if box is not None:
            self._ctx.setPeriodicBoxVectors(*box)
        self._ctx.setPositions(positions)
        if velocities is None:
            self._ctx.setVelocitiesToTemperature(self.temperature, self.seed)
        else:
            self._ctx.setVelocities(velocities)
        self._ctx.applyConstraints(1e-6)
        self._ctx.applyVelocityConstraints(1e-6)
        if velocities is None:
            self._scale_to_temperature()
        self._step, self.t, self._kick_pending = 0, 0.0, False
        self.timings = {}
        set_external(self._integrator, self._fext)
        if len(self.mm_index):
            self.port_array("mm_charges_out")[...] = charges[self.mm_index]
        for arr in self.inputs.values():
            arr[...] = 0.0
        self._pending = set(self.inputs)
        self._record_energies(*self._energies())
        self._publish()
        logger.info("%s: %d atoms, QM region %d atoms, %d MM atoms embedded, %s, %s on %s",
                    self._where, len(self._masses), len(self.qm_index), len(self.mm_index), self.integrator,
                    "NPT" if self.pressure > 0 else "constant volume", self.platform)

    def _starting_state(self, original: Any, loaded: LoadedSystem, platform: Any,
                        properties: dict[str, str]) -> tuple[Any, Any, Any]:
        """Positions, velocities (None: draw them) and box at t = 0: from ``state_xml``, or the
        structure after optional minimization and Langevin equilibration of the original system."""
        import openmm

        if self.state_xml:
            if not os.path.isfile(self.state_xml):
                raise self._err("state_xml", f"file {self.state_xml!r} does not exist")
            with open(self.state_xml, encoding="utf-8") as fh:
                state = openmm.XmlSerializer.deserialize(fh.read())
            x = state.getPositions(asNumpy=True)
            if len(x) != len(self._masses):
                raise self._err("state_xml", f"{self.state_xml!r} holds {len(x)} positions, the system has "
                                f"{len(self._masses)} atoms")
            return x, state.getVelocities(asNumpy=True), state.getPeriodicBoxVectors()
        box = None
        if original.usesPeriodicBoundaryConditions():
            box = [openmm.Vec3(*row) for row in loaded.box] if loaded.box is not None else \
                original.getDefaultPeriodicBoxVectors()
        if not (self.minimize or self.equilibrate):
            return loaded.positions, None, box
        work = openmm.XmlSerializer.clone(original)
        if self.pressure > 0:
            baro = openmm.MonteCarloBarostat(self.pressure, self.temperature, self.barostat_interval)
            baro.setRandomNumberSeed(self.seed)
            work.addForce(baro)
        integrator = openmm.LangevinMiddleIntegrator(self.temperature, self.friction, self.equilibrate_dt)
        integrator.setRandomNumberSeed(self.seed + 1)
        ctx = openmm.Context(work, integrator, platform, properties)
        if box is not None:
            ctx.setPeriodicBoxVectors(*box)
        ctx.setPositions(loaded.positions)
        if self.minimize:
            openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 1000)
        ctx.setVelocitiesToTemperature(self.temperature, self.seed)
        if self.equilibrate:
            integrator.step(self.equilibrate)
        state = ctx.getState(getPositions=True, getVelocities=True)
        out = state.getPositions(asNumpy=True), state.getVelocities(asNumpy=True), state.getPeriodicBoxVectors()
        del ctx
        return out if box is not None else (out[0], out[1], None)

    def _scale_to_temperature(self) -> None:
        """Scale the drawn velocities to exactly ``temperature`` for the system's degrees of freedom
        (OpenMM's ``setVelocitiesToTemperature`` does not count the constraints)."""
        v = np.asarray(self._ctx.getState(getVelocities=True).getVelocities(asNumpy=True)._value)
        v -= np.sum(self._masses[:, None] * v, axis=0) / np.sum(self._masses)
        kinetic = 0.5 * float(np.sum(self._masses[:, None] * v * v))
        v *= np.sqrt(0.5 * self._dof * _KJ_PER_MOL_K * self.temperature / kinetic)
        self._ctx.setVelocities(v)

    def _charges(self, system: Any) -> np.ndarray:
        import openmm

        q = np.zeros(system.getNumParticles())
        for force in system.getForces():
            if isinstance(force, openmm.NonbondedForce):
                q = np.array([force.getParticleParameters(i)[0]._value for i in range(force.getNumParticles())])
        return q

    def _molecule_index(self, system: Any) -> np.ndarray:
        """The molecule (0, 1, ...) of each MM row, for imaging whole molecules."""
        out = np.zeros(len(self.mm_index), dtype=np.int64)
        if not len(self.mm_index):
            return out
        row = {int(a): k for k, a in enumerate(self.mm_index)}
        for m, mol in enumerate(mol for mol in molecules(system) if mol[0] in row):
            out[[row[a] for a in mol]] = m
        return out

    def _degrees_of_freedom(self, system: Any) -> int:
        import openmm

        moving = int(np.sum(self._masses > 0))
        dof = 3 * moving - system.getNumConstraints()
        if any(isinstance(f, openmm.CMMotionRemover) for f in system.getForces()):
            dof -= 3
        return max(dof, 1)

    def receive(self, port: str) -> None:
        """Remember that new external forces arrived; they are applied before the next step."""
        self.port(port)
        self._pending.add(port)

    def time_step(self) -> float:
        """The MD step ``dt`` (ps)."""
        return float(self.dt)

    def advance(self, t_end: float) -> None:
        """Integrate from ``t`` to ``t_end`` with the external forces last received held constant."""
        if self._ctx is None:
            raise msm.CouplingError(f"{self._where}: advance() called before initialize()")
        h, n = substeps(self.t, t_end, self.dt)
        if n == 0:
            return
        set_step(self._integrator, h)
        start = time.perf_counter()
        self._apply_forces()
        middle = time.perf_counter()
        if self.integrator == "langevin":
            if n > 1:
                self._integrator.step(n - 1)
            energies = self._energies()
            self._integrator.step(1)
        else:
            done = 0
            if not self._kick_pending:
                self._integrator.setCurrentIntegrator(KICK_DRIFT)
                self._integrator.step(1)
                self._kick_pending, done = True, 1
            if n > done:
                self._integrator.setCurrentIntegrator(FULL)
                self._integrator.step(n - done)
            energies = step_energies(self._integrator)   # of the integrator that took the last step
        self._record_energies(*energies)
        self._step += n
        self.t = t_end
        stepped = time.perf_counter()
        self._publish()
        end = time.perf_counter()
        for key, seconds in (("forces_in", middle - start), ("md", stepped - middle), ("publish", end - stepped)):
            self.timings[key] = self.timings.get(key, 0.0) + seconds

    # -- internals -------------------------------------------------------------------------
    def _apply_forces(self) -> None:
        if self._pending:
            if len(self.qm_index):
                self._fext[self.qm_index] = self.port_array("qm_forces_in")
            if len(self.mm_index):
                self._fext[self.mm_index] = self.port_array("mm_forces_in")
            set_external(self._integrator, self._fext)
        self._pending.clear()

    def _energies(self) -> tuple[float, float]:
        state = self._ctx.getState(getEnergy=True)
        return float(state.getPotentialEnergy()._value), float(state.getKineticEnergy()._value)

    def _record_energies(self, potential: float, kinetic: float) -> None:
        self.port_array("energy_out")[0] = potential
        self.port_array("kinetic_out")[0] = kinetic
        self.port_array("temperature_out")[0] = 2.0 * kinetic / (self._dof * _KJ_PER_MOL_K)

    def _publish(self) -> None:
        state = self._ctx.getState(getPositions=bool(len(self.qm_index)))
        box = np.asarray(state.getPeriodicBoxVectors(asNumpy=True)._value, dtype=np.float64)
        volume_cm3 = abs(float(np.linalg.det(box))) * 1e-21
        self.port_array("density_out")[0] = self._total_mass / _AVOGADRO / volume_cm3
        if not len(self.qm_index):
            return
        x = np.asarray(state.getPositions(asNumpy=True)._value, dtype=np.float64)
        qm = x[self.qm_index]
        self.port_array("qm_positions_out")[...] = qm
        if len(self.mm_index):
            centre = qm.mean(axis=0)
            d = x[self.mm_index] - centre
            if self._system.usesPeriodicBoundaryConditions():
                if self.image == "atom":
                    d = minimum_image(d, box)
                else:  # shift each molecule by the image shift of its centroid
                    mid: np.ndarray = np.stack([np.bincount(self._mm_molecule, d[:, a]) for a in range(3)], axis=1)
                    mid /= self._mm_molecule_size[:, None]
                    d += (minimum_image(mid, box) - mid)[self._mm_molecule]
            self.port_array("mm_positions_out")[...] = centre + d

    # -- access ----------------------------------------------------------------------------
    @property
    def context(self) -> Any:
        """The OpenMM ``Context`` (for inspection; changing it bypasses the component)."""
        return self._ctx

    @property
    def system(self) -> Any:
        """The OpenMM ``System`` in use (QM region carved out, external force and barostat added)."""
        return self._system

    @property
    def steps(self) -> int:
        """MD steps taken since t = 0."""
        return self._step

    def positions(self) -> np.ndarray:
        """All positions now, ``(n, 3)`` nm."""
        state = self._ctx.getState(getPositions=True)
        return np.asarray(state.getPositions(asNumpy=True)._value, dtype=np.float64)

    def write_state(self, path: str) -> None:
        """Write positions, velocities and box as an OpenMM State XML (``state_xml`` reads it).

        With ``verlet`` the velocities are those OpenMM holds (half a step behind, see
        ``kinetic_out``).
        """
        import openmm

        state = self._ctx.getState(getPositions=True, getVelocities=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(openmm.XmlSerializer.serialize(state))

    # -- state -----------------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Snapshot: an OpenMM checkpoint (positions, velocities, box, integrator and RNG state),
        the step count, the pending half kick, the applied external forces and the port arrays.

        The context is rebuilt from the checkpoint right away (as ``md.lj`` does), so the
        run after a save and the run after a restore start from identical OpenMM internals.
        """
        if self._ctx is None:
            raise msm.CouplingError(f"{self._where}: save_state() called before initialize()")
        checkpoint = self._ctx.createCheckpoint()
        self._ctx.reinitialize(preserveState=True)
        return {
            "checkpoint": checkpoint,
            "t": self.t,
            "step": self._step,
            "kick_pending": self._kick_pending,
            "external": self._fext.copy(),
            "arrays": {k: v.copy() for k, v in self._arrays.items()},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Return to a :meth:`save_state` snapshot."""
        self._ctx.loadCheckpoint(state["checkpoint"])
        self._ctx.reinitialize(preserveState=True)
        self._fext[...] = state["external"]
        set_external(self._integrator, self._fext)
        self.t, self._step, self._kick_pending = state["t"], state["step"], state["kick_pending"]
        for k, v in state["arrays"].items():
            self.port_array(k)[...] = v
        self._pending = set()

    def finalize(self) -> None:
        """Write ``final_state_xml`` (if set) and release the OpenMM context; the port arrays stay
        readable."""
        if self._ctx is not None:
            if self.final_state_xml:
                self.write_state(self.final_state_xml)
            del self._ctx
        self._ctx = None
        self._integrator = None
