"""QM/MM NVE of one QM water in TIP3P (examples/qmmm_water, reduced): energy conservation.

md.openmm (64 TIP3P waters, PME, one water carved out as the QM region) and quantum.scf
(RHF/STO-3G, electrostatic embedding of the 189 MM charges, quintic switch 0.40-0.52 nm from
the QM centroid) coupled one 0.5 fs MD step per window, Serial(order=["qm", "md"]), 200 steps
(0.1 ps) of NVE from the shipped box with fresh 298 K velocities.

Reference: an exact property rather than a number - the dynamics is Hamiltonian (E_QM of
the embedded SCF + E_MM of the carved system + kinetic energy) and velocity Verlet conserves
it up to bounded O(dt^2) fluctuations with no systematic drift (Allen & Tildesley, Computer
Simulation of Liquids, 2nd ed., sec. 3.2; Leimkuhler & Reich ch. 5), if and only if the
forces exchanged are the exact negative gradients of the energies at the positions of the
step (units, signs, nearest images, the switch's derivative, the timing).

Bounds, stated and justified:
* drift |dE/dt| (least-squares slope) < 0.1 k_B T per molecule per ps = 15.9 kJ/mol/ps for 64
  waters at 298 K: a heating of 0.1 kT per molecule per ps would visibly bias any property.
  The slope of a 0.1 ps window also carries the start-up transient of freshly drawn
  velocities: the MM-only NVE of the same box from the same start (md.openmm alone, CPU and
  Reference platform alike) shows -5.1 kJ/mol/ps over its first 200 steps (-0.8 over 1000);
  this run measured -7.9 kJ/mol/ps (residual RMS 0.17 kJ/mol, range 1.0 kJ/mol).
* the RMS of the total energy about its linear trend < 5 % of the kinetic energy's standard
  deviation (the usual check that total-energy fluctuations are small against the exchange
  between kinetic and potential energy).
What a wrong coupling does: the lagged explicit scheme msm.Parallel (SCF forces one step
old) makes the SCF diverge within 75 steps; wrong units or a missing switch derivative give
drifts of hundreds of kJ/mol/ps.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openmm")
pytest.importorskip("pyscf")
pytest.importorskip("msm_md")
pytest.importorskip("msm_quantum")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qmmm_water" / "qmmm.py"
spec = importlib.util.spec_from_file_location("qmmm_example", EXAMPLE)
qmmm = importlib.util.module_from_spec(spec)
sys.modules["qmmm_example"] = qmmm
spec.loader.exec_module(qmmm)

KT_298_KJ_MOL = 0.0083144626 * 298.15


@pytest.mark.slow
def test_qmmm_water_nve_conserves_energy():
    setup = qmmm.REDUCED
    res = qmmm.run_stage(setup, "verlet", setup.nve)
    e = qmmm.energies(res)
    assert len(e["total"]) == setup.nve
    slope, rms = qmmm.drift(e["t"], e["total"])
    kinetic_std = float(np.std(e["kinetic"]))
    print(f"QM/MM NVE: drift {slope:.2f} kJ/mol/ps, residual RMS {rms:.3f} kJ/mol, "
          f"kinetic std {kinetic_std:.2f} kJ/mol")
    assert abs(slope) < 0.1 * KT_298_KJ_MOL * 64, slope
    assert rms < 0.05 * kinetic_std, (rms, kinetic_std)
    # the QM water is really coupled: its energy and the MM energy both change, by more than the total
    assert np.ptp(e["qm"]) > 10 * np.ptp(e["total"]) and np.ptp(e["mm"]) > 10 * np.ptp(e["total"])
    # and flexible: its O-H bonds vibrate around the RHF/STO-3G length (0.99 A) not TIP3P's rigid 0.9572 A
    _, r, _ = qmmm.qm_geometry(res)
    assert np.ptp(r) > 0.005
    totals = res.profile_totals()
    assert {"md", "qm"} <= set(totals.index)
