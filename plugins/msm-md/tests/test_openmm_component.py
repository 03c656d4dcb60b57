"""md.openmm: ports, external forces and their timing, state, re-initialisation, bad input.

The timing check needs no quantum chemistry: a stand-in "QM" component returns,
for the positions md.openmm sends, exactly what the surgery removed - the force
difference F(original system) - F(carved system), computed by OpenMM itself. Coupled
through msmcore one MD step per window, md.openmm's split velocity Verlet must then
follow the trajectory of OpenMM's own VerletIntegrator (leapfrog) on the original
system: leapfrog and velocity Verlet give identical positions when the leapfrog's
velocities start at v(-dt/2) = v(0) - dt/2 a(0) (Allen & Tildesley, Computer Simulation
of Liquids, 2nd ed., sec. 3.2.1). That holds only if the external forces of step
x_n -> x_{n+1} are those of x_n, in both half kicks. Both runs are double precision
(Reference platform); after 40 steps the positions agree to 1e-9 nm (round-off, grown
by the chaotic dynamics), while a one-step lag of the external forces gives 1e-4 nm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from msm_md.openmm_component import OpenMMSystem, minimum_image
from openmm_helpers import BOX_64, forces, reference_context, water_cluster

import msmcore as msm

openmm = pytest.importorskip("openmm")
app = pytest.importorskip("openmm.app")

DT = 0.0005


class ForceDifference(msm.Component):
    """Stand-in QM side: F(original) - F(carved) and E(original) - E(carved) at the positions received."""

    structure = msm.Setting(str, doc="the cluster PDB")
    qm = msm.Setting(tuple, doc="QM atom indices")
    lag = msm.Setting(bool, default=False, doc="return the forces of the previous positions (a wrong scheme)")
    state_attributes = ("previous",)

    def declare_ports(self) -> list[msm.Port]:
        n = len(app.PDBFile(self.structure).positions)
        n_qm = len(self.qm)
        return [msm.Port.input("positions_in", n_qm, components=3, units="nm"),
                msm.Port.input("mm_positions_in", n - n_qm, components=3, units="nm"),
                msm.Port.output("energy_out", 1, units="kJ/mol"),
                msm.Port.output("forces_out", n_qm, components=3, units="kJ/mol/nm"),
                msm.Port.output("mm_forces_out", n - n_qm, components=3, units="kJ/mol/nm")]

    def initialize(self) -> None:
        pdb = app.PDBFile(self.structure)
        ff = app.ForceField("amber14/tip3p.xml")
        self.full = ff.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False)
        carved = OpenMMSystem("x", structure=self.structure, forcefield=["amber14/tip3p.xml"],
                              nonbonded="no-cutoff", constraints="none", rigid_water=False, qm_atoms=self.qm)
        carved.initialize()
        system = openmm.XmlSerializer.clone(carved.system)
        for k in reversed(range(system.getNumForces())):
            if isinstance(system.getForce(k), openmm.CustomExternalForce):
                system.removeForce(k)
        n = len(pdb.positions)
        self.ctx = [reference_context(s, np.zeros((n, 3))) for s in (self.full, system)]
        self.qm_index = np.array(self.qm)
        self.mm_index = np.setdiff1d(np.arange(n), self.qm_index)
        self.previous = None

    def time_step(self) -> None:
        return None

    def advance(self, t_end: float) -> None:
        x = np.zeros((len(self.qm_index) + len(self.mm_index), 3))
        x[self.qm_index] = self.port_array("positions_in")
        x[self.mm_index] = self.port_array("mm_positions_in")
        if self.lag:
            x, self.previous = (x if self.previous is None else self.previous), x.copy()
        result = []
        for ctx in self.ctx:
            ctx.setPositions(x)
            state = ctx.getState(getForces=True, getEnergy=True)
            result.append((state.getPotentialEnergy()._value, state.getForces(asNumpy=True)._value))
        f = np.asarray(result[0][1]) - np.asarray(result[1][1])
        self.port_array("energy_out")[0] = result[0][0] - result[1][0]
        self.port_array("forces_out")[...] = f[self.qm_index]
        self.port_array("mm_forces_out")[...] = f[self.mm_index]
        self.t = t_end


def _coupled(path, qm, steps: int, lag: bool = False, dt: float = DT):
    md = OpenMMSystem("md", structure=str(path), forcefield=["amber14/tip3p.xml"], nonbonded="no-cutoff",
                      constraints="none", rigid_water=False, integrator="verlet", dt=dt, platform="Reference",
                      qm_atoms=qm, temperature=300.0, seed=7)
    c = msm.Coupling()
    c.add("md", md)
    c.add("qm", ForceDifference, structure=str(path), qm=tuple(qm), lag=lag)
    c.connect("md.qm_positions_out", "qm.positions_in")
    c.connect("md.mm_positions_out", "qm.mm_positions_in")
    c.connect("qm.forces_out", "md.qm_forces_in")
    c.connect("qm.mm_forces_out", "md.mm_forces_in")
    res = c.run(until=steps * dt, scheme=msm.Serial(window=dt, order=["qm", "md"]), quiet=True)
    return md, res


def _leapfrog(path, md_start: tuple[np.ndarray, np.ndarray], steps: int) -> np.ndarray:
    pdb = app.PDBFile(str(path))
    system = app.ForceField("amber14/tip3p.xml").createSystem(pdb.topology, nonbondedMethod=app.NoCutoff,
                                                              constraints=None, rigidWater=False)
    x0, v0 = md_start
    m = np.array([system.getParticleMass(i)._value for i in range(system.getNumParticles())])
    a0 = forces(reference_context(system, x0)) / m[:, None]
    integrator = openmm.VerletIntegrator(DT)
    ctx = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    ctx.setPositions(x0)
    ctx.setVelocities(v0 - 0.5 * DT * a0)     # leapfrog's v(-dt/2)
    integrator.step(steps)
    return np.asarray(ctx.getState(getPositions=True).getPositions(asNumpy=True)._value)


def _final(md) -> np.ndarray:
    """All positions at the end of the run, from the ports (no periodic box here, so no imaging)."""
    x = np.zeros((len(md.qm_index) + len(md.mm_index), 3))
    x[md.qm_index] = md.port_array("qm_positions_out")
    x[md.mm_index] = md.port_array("mm_positions_out")
    return x


def _start(path, qm) -> tuple[np.ndarray, np.ndarray]:
    md = OpenMMSystem("md", structure=str(path), forcefield=["amber14/tip3p.xml"], nonbonded="no-cutoff",
                      constraints="none", rigid_water=False, integrator="verlet", dt=DT, platform="Reference",
                      qm_atoms=qm, temperature=300.0, seed=7)
    md.initialize()
    state = md.context.getState(getPositions=True, getVelocities=True)
    return (np.asarray(state.getPositions(asNumpy=True)._value),
            np.asarray(state.getVelocities(asNumpy=True)._value))


def test_external_forces_enter_velocity_verlet_at_the_positions_of_the_step(tmp_path):
    path = water_cluster(tmp_path / "cluster.pdb", 5)
    qm = (3, 4, 5)
    steps = 40
    md, _ = _coupled(path, qm, steps)
    reference = _leapfrog(path, _start(path, qm), steps)
    error = np.max(np.abs(_final(md) - reference))
    assert error < 1e-9, error


def _energy_spread(res) -> float:
    """Range of E(carved) + E(removed, from "qm") + on-step kinetic energy over the windows.

    Sample 0 is t = 0, before "qm" first ran; in window k >= 1 "qm" ran on x_{k-1} and md.openmm's
    energy_out and kinetic_out (the last step's start) are those of x_{k-1} too.
    """
    md = res["md"]
    e = (md["energy_out"].values.ravel() + md["kinetic_out"].values.ravel()
         + res["qm"]["energy_out"].values.ravel())
    return float(np.ptp(e[1:]))


def test_total_energy_error_is_second_order_in_the_step(tmp_path):
    # Velocity Verlet conserves a shadow Hamiltonian: the total energy's fluctuation is O(dt^2)
    # (Allen & Tildesley sec. 3.2; Leimkuhler & Reich, Simulating Hamiltonian Dynamics, ch. 5).
    # Halving dt must divide it by 4 (3.5..4.5 allowed: the two runs cover the same 20 fs but are
    # not identical trajectories); energies of mismatched times would give O(dt) instead (ratio 2).
    path = water_cluster(tmp_path / "cluster.pdb", 5)
    coarse = _energy_spread(_coupled(path, (3, 4, 5), 40, dt=DT)[1])
    fine = _energy_spread(_coupled(path, (3, 4, 5), 80, dt=DT / 2)[1])
    assert 3.5 < coarse / fine < 4.5, (coarse, fine)


def test_a_lagged_force_is_detected_by_the_same_comparison(tmp_path):
    path = water_cluster(tmp_path / "cluster.pdb", 5)
    qm = (3, 4, 5)
    md, _ = _coupled(path, qm, 40, lag=True)
    reference = _leapfrog(path, _start(path, qm), 40)
    assert np.max(np.abs(_final(md) - reference)) > 1e-6


def test_mm_positions_are_the_nearest_image_of_whole_molecules():
    md = OpenMMSystem("md", structure=str(BOX_64), forcefield=["amber14/tip3p.xml"], cutoff=0.6,
                      qm_residues=(10,), platform="Reference")
    md.initialize()
    box = np.asarray(md.context.getState().getPeriodicBoxVectors(asNumpy=True)._value)
    centre = md.port_array("qm_positions_out").mean(axis=0)
    mm = md.port_array("mm_positions_out").reshape(-1, 3, 3)       # 63 waters, O H H
    assert np.all(np.abs(mm[:, 1:, :] - mm[:, :1, :]) < 0.11)     # molecules whole
    centroid = mm.mean(axis=1) - centre
    assert np.all(np.abs(centroid) <= 0.5 * np.diag(box) + 1e-9)   # each molecule's nearest image
    shift = (md.port_array("mm_positions_out") - md.positions()[md.mm_index]) / np.diag(box)
    assert np.allclose(shift, np.round(shift), atol=1e-9)            # moved by whole box vectors only
    assert np.any(np.round(shift) != 0)                                # ... and some were moved
    assert np.allclose(minimum_image(centroid, box), centroid)
    charges = md.port_array("mm_charges_out")
    assert np.allclose(charges.reshape(-1, 3), [-0.834, 0.417, 0.417])


def test_save_restore_repeats_bit_for_bit_and_initialize_restarts(tmp_path):
    md = OpenMMSystem("md", structure=str(BOX_64), forcefield=["amber14/tip3p.xml"], cutoff=0.6,
                      integrator="langevin", dt=0.002, qm_residues=(0,), seed=3)
    md.initialize()
    first = md.port_array("energy_out").copy()
    md.port_array("qm_forces_in")[...] = 5.0
    md.receive("qm_forces_in")
    md.advance(0.01)
    snap = md.save_state()
    md.advance(0.02)
    after: dict[str, Any] = {k: md.port_array(k).copy() for k in ("energy_out", "qm_positions_out", "kinetic_out")}
    md.port_array("qm_forces_in")[...] = -7.0      # an input arriving in between
    md.receive("qm_forces_in")
    md.restore_state(snap)
    md.advance(0.02)
    for k, v in after.items():
        assert np.array_equal(md.port_array(k), v), k
    md.finalize()
    md.initialize()
    assert np.array_equal(md.port_array("energy_out"), first)


@pytest.mark.parametrize("settings, match", [
    ({"forcefield": ["no_such_forcefield.xml"]}, r"force-field file 'no_such_forcefield.xml' cannot be loaded"),
    ({"qm_atoms": (500,)}, r"'qm_atoms': atom 500 does not exist; the system has atoms 0..191"),
    ({"qm_residues": (64,)}, r"'qm_residues': residue 64 does not exist"),
    ({"qm_atoms": (0, 1)}, r"splits a molecule \(residue 0 HOH, atoms 0..2\)"),
    ({"integrator": "verlet", "pressure": 1.0}, r"setting 'pressure'.*barostat needs integrator='langevin'"),
    ({"cutoff": 0.7}, r"cutoff=0.7 nm exceeds half the smallest box length"),
    ({"structure": "missing.pdb"}, r"structure file 'missing.pdb' does not exist"),
    ({"pressure": 1.0, "qm_residues": (0,)}, r"barostat's acceptance test sees OpenMM's energy only"),
    ({"forcefield": (), "system_xml": ""}, r"give either 'forcefield'"),
])
def test_bad_input_is_a_configuration_error_naming_it(settings, match):
    base = {"structure": str(BOX_64), "forcefield": ["amber14/tip3p.xml"], "cutoff": 0.6}
    base.update(settings)
    with pytest.raises(msm.ConfigurationError, match=match):
        OpenMMSystem("md", **base)


def test_unknown_platform_is_named(tmp_path):
    md = OpenMMSystem("md", structure=str(BOX_64), forcefield=["amber14/tip3p.xml"], cutoff=0.6,
                      platform="NoSuchGPU")
    with pytest.raises(msm.ConfigurationError, match=r"no platform 'NoSuchGPU'.*available"):
        md.initialize()


def test_serialized_system_and_registry(tmp_path):
    pdb = app.PDBFile(str(BOX_64))
    system = app.ForceField("amber14/tip3p.xml").createSystem(pdb.topology, nonbondedMethod=app.PME,
                                                              nonbondedCutoff=0.6, constraints=app.HBonds)
    xml = tmp_path / "system.xml"
    xml.write_text(openmm.XmlSerializer.serialize(system))
    md = msm.get_registry().create("md.openmm", name="md", structure=str(BOX_64), system_xml=str(xml))
    md.initialize()
    direct = OpenMMSystem("d", structure=str(BOX_64), forcefield=["amber14/tip3p.xml"], cutoff=0.6,
                          dispersion_correction=True)
    direct.initialize()
    assert md.port_array("energy_out")[0] == pytest.approx(direct.port_array("energy_out")[0], rel=1e-5)
    bad = tmp_path / "small.xml"
    small = openmm.System()
    small.addParticle(1.0)
    bad.write_text(openmm.XmlSerializer.serialize(small))
    with pytest.raises(msm.ConfigurationError, match=r"has 1 particles but the structure .* has 192 atoms"):
        OpenMMSystem("md", structure=str(BOX_64), system_xml=str(bad))


def test_final_state_xml_starts_the_next_run_where_this_one_ended(tmp_path):
    state = tmp_path / "state.xml"
    settings = {"structure": str(BOX_64), "forcefield": ["amber14/tip3p.xml"], "cutoff": 0.6,
                "integrator": "verlet", "dt": 0.001, "platform": "Reference"}
    first = OpenMMSystem("a", final_state_xml=str(state), **settings)
    first.initialize()
    first.advance(0.005)
    end = first.positions()
    first.finalize()
    second = OpenMMSystem("b", state_xml=str(state), **settings)
    second.initialize()
    assert np.allclose(second.positions(), end, rtol=0, atol=1e-6)   # XML round trip + constraint tolerance
    start = np.asarray(app.PDBFile(str(BOX_64)).getPositions(asNumpy=True)._value)
    assert np.max(np.abs(end - start)) > 1e-3          # it did move


@pytest.mark.parametrize("integrator", ["verlet", "langevin"])
def test_coupled_run_resumes_from_a_checkpoint_bit_for_bit(tmp_path, integrator):
    # Interrupted at a window, resumed from msmcore's checkpoint folder: the same result as a run
    # that never stopped (and took the same snapshots: md.openmm rebuilds its context on saving,
    # as md.lj does). Covers the pending half kick (verlet), the Langevin RNG state in OpenMM's
    # checkpoint and the held external forces.
    path = water_cluster(tmp_path / "cluster.pdb", 4)

    def build() -> msm.Coupling:
        c = msm.Coupling()
        c.add("md", OpenMMSystem, structure=str(path), forcefield=["amber14/tip3p.xml"], nonbonded="no-cutoff",
              constraints="none", rigid_water=False, integrator=integrator, dt=DT, platform="Reference",
              qm_atoms=(0, 1, 2), seed=5)
        c.add("qm", ForceDifference, structure=str(path), qm=(0, 1, 2))
        c.connect("md.qm_positions_out", "qm.positions_in")
        c.connect("md.mm_positions_out", "qm.mm_positions_in")
        c.connect("qm.forces_out", "md.qm_forces_in")
        c.connect("qm.mm_forces_out", "md.mm_forces_in")
        return c

    def run(c: msm.Coupling, folder: str, **kwargs: Any) -> msm.Result:
        return c.run(until=12 * DT, scheme=msm.Serial(window=DT, order=["qm", "md"]), quiet=True,
                     checkpoint=msm.Checkpoints(every=4 * DT, keep=5, path=tmp_path / folder), **kwargs)

    full = run(build(), "full")
    c = build()
    advance = c.components["md"].advance

    def failing(t: float) -> None:
        if t > 7.5 * DT:
            raise RuntimeError("injected failure")
        advance(t)

    c.components["md"].advance = failing  # type: ignore[method-assign]
    with pytest.raises(msm.CouplingError, match="injected failure"):
        run(c, "cut")
    resumed = run(build(), "cut", resume=tmp_path / "cut")
    for name in ("md", "qm"):
        for var in full[name].data_vars:
            assert np.array_equal(resumed[name][var].values, full[name][var].values), (name, var)
