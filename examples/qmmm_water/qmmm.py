"""One QM water in a periodic box of TIP3P water: electrostatically embedded QM/MM on msmcore.

md.openmm (OpenMM) moves all atoms; the QM water's internal terms and its charges are carved
out of the TIP3P system (its Lennard-Jones stays); quantum.scf (PySCF) computes the QM water in
the field of the MM charges and returns the forces on both. One coupling window per MD step:
``Serial(order=["qm", "md"])`` - the SCF runs at x_n, md.openmm takes the step x_n -> x_{n+1}
with those forces (its split velocity Verlet uses them in both half kicks).

Stages of the full run (``python qmmm.py``): (1) classical NVT equilibration inside
md.openmm's ``equilibrate`` (QM water still TIP3P), (2) QM/MM Langevin at 0.5 fs to thermalise
the now flexible QM water, (3) QM/MM NVE at 0.5 fs, sampled every step. Then the gas-phase SCF
on every sampled geometry of the QM water (no embedding) for the polarisation.

``python qmmm.py --reduced`` is the test's size: 64 waters, RHF/STO-3G, stages 2-3 short.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import msmcore as msm

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "plugins" / "msm-md" / "src" / "msm_md" / "data"
EH_KJ_PER_MOL = 2625.4996394799     # hartree in kJ/mol (CODATA 2018)
BOHR_NM = 0.0529177210903
EBOHR_DEBYE = 2.541746473           # e*bohr in debye
logger = logging.getLogger("qmmm_water")


@dataclass
class Setup:
    """Everything that differs between the full example and the test's reduced run."""

    structure: Path = DATA / "tip3p_216.pdb"
    qm_residue: int = 0
    method: str = "rhf"
    xc: str | None = None
    basis: str = "6-31g*"
    cutoff: float = 0.80            # nm: MM charges switched off beyond (<= L/2 - 0.1 nm, see README)
    switch_width: float = 0.20      # nm
    dt: float = 0.0005              # ps
    equilibrate: int = 5000         # classical steps of equilibrate_dt (stage 1)
    equilibrate_dt: float = 0.002
    thermalise: int = 300           # QM/MM Langevin steps (stage 2)
    nve: int = 2000                 # QM/MM NVE steps (stage 3)
    temperature: float = 298.15
    seed: int = 1
    threads: int = 1
    platform: str = "CPU"
    extra: dict[str, Any] = field(default_factory=dict)


REDUCED = Setup(structure=DATA / "tip3p_64.pdb", basis="sto-3g", cutoff=0.52, switch_width=0.12,
                equilibrate=0, thermalise=0, nve=200)


def qm_atoms(setup: Setup) -> list[list[Any]]:
    """The QM water as [symbol, x, y, z] in angstrom, from the structure (quantum.scf's start)."""
    from openmm import app

    pdb = app.PDBFile(str(setup.structure))
    residue = list(pdb.topology.residues())[setup.qm_residue]
    x = np.asarray(pdb.getPositions(asNumpy=True)._value)
    return [[a.element.symbol, *(10.0 * x[a.index]).tolist()] for a in residue.atoms()]


def build(setup: Setup, integrator: str, state_xml: str = "", final_state_xml: str = "",
          equilibrate: int = 0) -> msm.Coupling:
    """The QM/MM coupling: md.openmm + quantum.scf, four connections, one window per MD step."""
    c = msm.Coupling()
    md = c.add("md", "md.openmm", structure=str(setup.structure), forcefield=["amber14/tip3p.xml"],
               cutoff=0.9 if "216" in setup.structure.name else 0.6, integrator=integrator, dt=setup.dt,
               temperature=setup.temperature, friction=1.0, seed=setup.seed, qm_residues=[setup.qm_residue],
               equilibrate=equilibrate, equilibrate_dt=setup.equilibrate_dt, state_xml=state_xml,
               final_state_xml=final_state_xml, platform=setup.platform, threads=setup.threads)
    n_mm = md.port("mm_charges_out").spec.array_shape[0]
    xc = {"xc": setup.xc} if setup.xc else {}
    c.add("qm", "quantum.scf", atoms=qm_atoms(setup), method=setup.method, basis=setup.basis, **xc,
          embedding="electrostatic", mm_count=n_mm, units="angstrom", cutoff=10.0 * setup.cutoff,
          switch_width=10.0 * setup.switch_width, conv_tol=1e-10, threads=setup.threads, **setup.extra)
    c.connect("md.qm_positions_out", "qm.positions_in")          # nm -> bohr at connect time
    c.connect("md.mm_positions_out", "qm.mm_positions_in")
    c.connect("md.mm_charges_out", "qm.mm_charges_in")
    c.connect("qm.forces_out", "md.qm_forces_in")                 # Eh/bohr/molecule -> kJ/mol/nm
    c.connect("qm.mm_forces_out", "md.mm_forces_in")
    return c


def run_stage(setup: Setup, integrator: str, steps: int, **kwargs: Any) -> msm.Result:
    """``steps`` QM/MM steps of ``integrator``, one coupling window each, profiled."""
    c = build(setup, integrator, **kwargs)
    return c.run(until=steps * setup.dt, scheme=msm.Serial(window=setup.dt, order=["qm", "md"]),
                 quiet=True, profile=True)


def energies(res: msm.Result) -> dict[str, np.ndarray]:
    """Time series of the conserved energy (kJ/mol) at t_n = window start, windows 1..N.

    In window k the SCF ran at x_{k-1} (qm.energy_out, embedded: QM + QM-MM electrostatics)
    and md.openmm's energy_out / kinetic_out (the start of its last step) hold E_MM(x_{k-1}) and
    the on-step kinetic energy at t_{k-1}; sample 0 (t = 0, before any SCF on the delivered
    positions) is left out.
    """
    md, qm = res["md"], res["qm"]
    e_mm = md["energy_out"].values.reshape(-1)[1:]
    kinetic = md["kinetic_out"].values.reshape(-1)[1:]
    e_qm = qm["energy_out"].values.reshape(-1)[1:] * EH_KJ_PER_MOL
    t = np.asarray(md["time"].values)[:-1]
    return {"t": t, "mm": e_mm, "kinetic": kinetic, "qm": e_qm, "total": e_mm + kinetic + e_qm}


def drift(t: np.ndarray, total: np.ndarray) -> tuple[float, float]:
    """Least-squares slope (kJ/mol/ps) of the total energy and the RMS of the residual."""
    a = np.polyfit(t - t[0], total, 1)
    return float(a[0]), float(np.std(total - np.polyval(a, t - t[0])))


def qm_geometry(res: msm.Result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """QM water positions (nm, per sample: O H H), O-H distances (nm) and H-O-H angles (degrees)."""
    x = res["md"]["qm_positions_out"].values.reshape(-1, 3, 3)
    d1, d2 = x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]
    r = np.concatenate([np.linalg.norm(d1, axis=1), np.linalg.norm(d2, axis=1)])
    cos = np.sum(d1 * d2, axis=1) / (np.linalg.norm(d1, axis=1) * np.linalg.norm(d2, axis=1))
    return x, r, np.degrees(np.arccos(np.clip(cos, -1, 1)))


def gas_phase_dipoles(setup: Setup, positions_nm: np.ndarray) -> np.ndarray:
    """|dipole| (debye) of the isolated QM water at each geometry (same method and basis)."""
    from msm_quantum import QuantumSCF

    xc = {"xc": setup.xc} if setup.xc else {}
    gas = QuantumSCF("gas", atoms=qm_atoms(setup), method=setup.method, basis=setup.basis, **xc,
                     conv_tol=1e-10, threads=setup.threads)
    gas.initialize()
    out = []
    for x in positions_nm:
        gas.port_array("positions_in")[...] = x / BOHR_NM
        gas.compute(0.0)
        out.append(np.linalg.norm(gas.port_array("dipole_out")) * EBOHR_DEBYE)
    gas.finalize()
    return np.array(out)


def main() -> None:  # pragma: no cover - the full run, minutes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="the test's size (64 waters, STO-3G)")
    parser.add_argument("--plot", default=str(HERE / "qmmm_water.png"))
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    setup = REDUCED if args.reduced else Setup()
    work = Path("/tmp") / "qmmm_water"
    work.mkdir(exist_ok=True)
    start, state = time.perf_counter(), ""
    if setup.thermalise:
        state = str(work / "thermalised.xml")
        run_stage(setup, "langevin", setup.thermalise, final_state_xml=state, equilibrate=setup.equilibrate)
        logger.info("stages 1-2 done in %.0f s", time.perf_counter() - start)
    res = run_stage(setup, "verlet", setup.nve, state_xml=state,
                    equilibrate=0 if state else setup.equilibrate)
    logger.info("NVE done in %.0f s", time.perf_counter() - start)
    e = energies(res)
    slope, rms = drift(e["t"], e["total"])
    x, r, angle = qm_geometry(res)
    frames = x[1::10]
    mu_solution = np.linalg.norm(res["qm"]["dipole_out"].values.reshape(-1, 3)[1::10], axis=1) * EBOHR_DEBYE
    mu_gas = gas_phase_dipoles(setup, frames)
    totals = res.profile_totals()
    summary = {
        "setup": {k: str(v) for k, v in setup.__dict__.items()},
        "nve_ps": float(e["t"][-1] - e["t"][0]),
        "drift_kj_mol_ps": slope, "total_rms_kj_mol": rms,
        "total_range_kj_mol": float(np.ptp(e["total"])), "kinetic_mean_kj_mol": float(e["kinetic"].mean()),
        "dipole_solution_debye": [float(mu_solution.mean()), float(mu_solution.std())],
        "dipole_gas_same_geometries_debye": [float(mu_gas.mean()), float(mu_gas.std())],
        "oh_nm": [float(r.mean()), float(r.std())], "hoh_deg": [float(angle.mean()), float(angle.std())],
        "profile": totals.reset_index().to_dict(orient="records"),
        "wall_s": time.perf_counter() - start,
    }
    Path(args.out).write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("profile", "setup")}, indent=1))
    plot(args.plot, e, r, angle, mu_solution, mu_gas)


def plot(path: str, e: dict[str, np.ndarray], r: np.ndarray, angle: np.ndarray, mu_solution: np.ndarray,
         mu_gas: np.ndarray) -> None:  # pragma: no cover - figure
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    t = (e["t"] - e["t"][0]) * 1000.0
    ax[0].plot(t, e["total"] - e["total"][0], label="total (QM + MM + kinetic)")
    ax[0].plot(t, e["kinetic"] - e["kinetic"][0], lw=0.6, alpha=0.6, label="kinetic")
    ax[0].set_xlabel("t (fs)")
    ax[0].set_ylabel("E - E(0) (kJ/mol)")
    ax[0].legend(fontsize=8)
    ax[1].hist(10.0 * r, bins=40, density=True)
    ax[1].set_xlabel("QM O-H (Å)")
    ax[2].hist(angle, bins=40, density=True)
    ax[2].set_xlabel("QM H-O-H (degrees)")
    fig.suptitle(f"dipole: {mu_solution.mean():.2f} D in solution, {mu_gas.mean():.2f} D gas phase "
                 "(same geometries)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
