"""Per-step cost of ``quantum.scf`` against a hand-written PySCF QM/MM step, and msmcore's share.

One QM/MM step = an embedded SCF (guess: the previous density) + the gradient on QM atoms and MM
charges, for H2O/6-31G* among ``n_mm`` point charges, the QM atoms moved a little every step:

* ``pyscf``: what one writes by hand with ``pyscf.qmmm`` (``mm_charge``, ``kernel(dm0)``,
  ``nuc_grad_method``, ``grad_hcore_mm + grad_nuc_mm``), the Mole reused (``set_geom_``);
* ``component``: ``QuantumSCF.advance`` alone (its own embedding code, plus charges and dipole);
* ``coupled``: the same component in an ``msm.Coupling`` with a stand-in MD component in nm /
  kJ/mol (unit conversion in the transfers), ``Serial`` windows; msmcore's share = run wall
  time − time inside the two components (``initialize`` + ``advance``), per window.

Medians over repeats; one OpenMP thread (the machine is shared).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402

BOHR_NM = 0.0529177210903
R, ANGLE = 1.809, np.deg2rad(104.52)
WATER = np.array([[0.0, 0.0, 0.0], [R, 0.0, 0.0], [R * np.cos(ANGLE), R * np.sin(ANGLE), 0.0]])
STEPS = 16


def mm_sites(n_waters: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """TIP3P-like charge triples at random in a shell 7-20 bohr around the QM water."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n_waters, 3))
    centres = d / np.linalg.norm(d, axis=1)[:, None] * rng.uniform(7.0, 20.0, size=(n_waters, 1))
    pos = (centres[:, None, :] + WATER[None, :, :]).reshape(-1, 3)
    return pos, np.tile([-0.834, 0.417, 0.417], n_waters)


def trajectory() -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    return [WATER + 0.01 * rng.normal(size=WATER.shape) for _ in range(STEPS + 1)]


def pyscf_steps(positions: np.ndarray, charges: np.ndarray, basis: str) -> float:
    from pyscf import gto, qmmm, scf

    mol = gto.M(atom=[("O", WATER[0]), ("H", WATER[1]), ("H", WATER[2])], unit="Bohr", basis=basis, verbose=0)
    dm, times = None, []
    for x in trajectory():
        t0 = time.perf_counter()
        mol.set_geom_(x, unit="Bohr")
        mf = qmmm.mm_charge(scf.RHF(mol), positions, charges, unit="Bohr")
        mf.conv_tol = 1e-10
        mf.kernel(dm0=dm)
        dm = mf.make_rdm1()
        grad = mf.nuc_grad_method()
        grad.kernel()
        grad.grad_hcore_mm(dm) + grad.grad_nuc_mm()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def component(positions: np.ndarray, charges: np.ndarray, basis: str) -> msm.Component:
    from msm_quantum import QuantumSCF

    return QuantumSCF("qm", atoms=[["O", *WATER[0]], ["H", *WATER[1]], ["H", *WATER[2]]], units="bohr",
                      basis=basis, embedding="electrostatic", mm_count=len(charges), threads=1)


def component_steps(positions: np.ndarray, charges: np.ndarray, basis: str) -> tuple[float, float]:
    qm = component(positions, charges, basis)
    qm.initialize()
    qm.port_array("mm_positions_in")[...] = positions
    qm.port_array("mm_charges_in")[...] = charges
    times, scf = [], []
    for i, x in enumerate(trajectory()):
        qm.port_array("positions_in")[...] = x
        t0 = time.perf_counter()
        qm.advance(float(i + 1))
        times.append(time.perf_counter() - t0)
        scf.append(qm.timings["scf"] + qm.timings["gradient"])
    return statistics.median(times[1:]), statistics.median(scf[1:])


class StandInMD(msm.Component):
    """Moves the QM atoms along a fixed trajectory (nm); MM charges fixed; reads forces in kJ/mol/nm."""

    n_mm = msm.Setting(int, default=3)
    dt = msm.Setting(float, default=1.0)
    state_attributes = ("step_count",)

    def declare_ports(self) -> list[msm.Port]:
        xyz = {"components": 3}
        return [msm.Port.output("qm_out", 3, units="nm", **xyz),
                msm.Port.output("mm_out", self.n_mm, units="nm", **xyz),
                msm.Port.output("q_out", self.n_mm, units="e"),
                msm.Port.input("f_in", 3, units="kJ/mol/nm", required=False, **xyz),
                msm.Port.input("fmm_in", self.n_mm, units="kJ/mol/nm", required=False, **xyz)]

    def initialize(self) -> None:
        self.step_count = 0
        self.path = trajectory()
        self.port_array("qm_out")[...] = self.path[0] * BOHR_NM

    def step(self, dt: float) -> None:
        self.step_count += 1
        self.port_array("qm_out")[...] = self.path[self.step_count % len(self.path)] * BOHR_NM


def coupled_steps(positions: np.ndarray, charges: np.ndarray, basis: str) -> dict[str, float]:
    c = msm.Coupling()
    md = c.add("md", StandInMD, n_mm=len(charges))
    c.add("qm", component(positions, charges, basis))
    for a, b in (("md.qm_out", "qm.positions_in"), ("md.mm_out", "qm.mm_positions_in"),
                 ("md.q_out", "qm.mm_charges_in"), ("qm.forces_out", "md.f_in"), ("qm.mm_forces_out", "md.fmm_in")):
        c.connect(a, b)

    def fill() -> None:
        md.port_array("mm_out")[...] = positions * BOHR_NM
        md.port_array("q_out")[...] = charges

    original = md.initialize
    md.initialize = lambda: (original(), fill())  # type: ignore[method-assign]
    t0 = time.perf_counter()
    res = c.run(until=float(STEPS), scheme=msm.Serial(window=1.0, order=["md", "qm"]), quiet=True, profile=False)
    wall = time.perf_counter() - t0
    t = res.timings
    inside = sum(t[n]["initialize_s"] + t[n]["compute_s"] for n in ("md", "qm"))
    return {"window_s": (wall - t["qm"]["initialize_s"] - t["md"]["initialize_s"]) / STEPS,
            "qm_advance_s": t["qm"]["compute_s"] / STEPS, "msmcore_s": (wall - inside) / STEPS,
            "exchange_s": (t["qm"]["exchange_s"] + t["md"]["exchange_s"]) / STEPS}


def main() -> None:
    out: dict[str, object] = {"machine": machine(), "basis": "6-31g*", "steps": STEPS, "cases": []}
    for n_waters in (10, 300):
        positions, charges = mm_sites(n_waters)
        rows: dict[str, list[float]] = {"pyscf": [], "component": [], "scf_grad": []}
        for _ in range(3):
            rows["pyscf"].append(pyscf_steps(positions, charges, "6-31g*"))
            comp, scf = component_steps(positions, charges, "6-31g*")
            rows["component"].append(comp)
            rows["scf_grad"].append(scf)
            for k, v in coupled_steps(positions, charges, "6-31g*").items():
                rows.setdefault(k, []).append(v)
        med = {k: statistics.median(v) for k, v in rows.items()}
        med["n_mm"] = len(charges)
        out["cases"].append(med)  # type: ignore[union-attr]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
