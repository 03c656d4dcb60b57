"""Validation of md.lj alone: Lennard-Jones energy and pressure against NIST reference data.

Reference: NIST Standard Reference Simulation Website (SRSW), "Lennard-Jones
Fluid Properties", page 3 "MC: NVT Monte Carlo results"
(https://www.nist.gov/mml/csd/chemical-informatics-group/lennard-jones-fluid-properties,
tables at https://mmlapps.nist.gov/srs/LJ_PURE/mc.htm): N = 500 particles,
LJ truncated at r_c = 3σ with analytic long-range corrections, NVT.

    T* = 0.85, ρ* = 0.82:  U*/N = −5.7947,  p* = 0.55355
    T* = 0.90, ρ* = 0.86:  U*/N = −5.9753,  p* = 1.5781

md.lj runs the same model (N = 500 from 5³ FCC cells, r_c = 3σ,
truncation="lrc"), so no finite-size or cut-off allowance is needed. Langevin
(BAOAB) dynamics samples the canonical ensemble like NVT Monte Carlo. The
lattice is melted at T* = 2 for 1.5 τ and relaxed at the target for 1.5 τ
before t = 0 (without the melt, a crystalline remnant can survive 5 τ at
ρ* = 0.86 and bias the first windows by −0.1 in U).

Tolerance: |mean − ref| < 3 σ_block + δ.

* σ_block: the standard error of the mean of the 1 τ window averages, taken
  as the largest over blocks of 1, 2 and 4 windows (correlations make the
  1-window estimate too small: in a 200 τ run the estimate grew from 1 to 4 τ
  blocks by ~40 % and then stayed flat).
* δ, the systematic allowance (time-step bias of BAOAB at Δt = 0.005 τ and the
  reference's own uncertainty), is bounded by a measurement: a 200 τ run of
  this component at T* = 0.85, ρ* = 0.82 gave U*/N = −5.7925 ± 0.0022 and
  p* = 0.5565 ± 0.012, within one standard error of NIST; δ is two of those
  standard errors, δ_U = 0.005 and δ_p = 0.025. (A 100 τ run at Δt = 0.0025
  gave −5.8009 ± 0.0041 and 0.520 ± 0.023: no resolvable time-step effect.)

The tolerance stays far below the effects a mistake would cause: the tail
corrections alone are −0.254 (U) and −0.417 (p) at the first state point, and
the kinetic pressure ρT is 0.70.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_md import LJFluid

#: (T*, ρ*, U*/N, p*) from NIST SRSW, LJ NVT MC, r_c = 3σ + LRC, N = 500.
NIST = [(0.85, 0.82, -5.7947, 0.55355), (0.90, 0.86, -5.9753, 1.5781)]
DELTA_U, DELTA_P = 0.005, 0.025


def block_error(x: np.ndarray) -> float:
    """Largest standard error of the mean over blocks of 1, 2 and 4 consecutive values."""
    errors = []
    for b in (1, 2, 4):
        m = len(x) // b
        blocks = x[: m * b].reshape(m, b).mean(axis=1)
        errors.append(blocks.std(ddof=1) / np.sqrt(m))
    return float(max(errors))


def run_state_point(temperature: float, density: float, windows: int = 20) -> dict[str, tuple[float, float]]:
    c = LJFluid(name="nist", density=density, temperature=temperature, cells=(5, 5, 5), cutoff=3.0,
                truncation="lrc", integrator="langevin", thermostat_rate=1.0, dt=0.005, seed=2024,
                equilibrate=600, melt_temperature=2.0, n_bins=1, sample_interval=20, stress_interval=20)
    c.initialize()
    assert c.n_fluid == 500
    series: dict[str, list[float]] = {"potential_energy": [], "pressure": [], "temperature": []}
    for k in range(windows):
        c.advance(1.0 * (k + 1))  # 200 steps = 1 tau per window
        for key in series:
            series[key].append(c.thermo[key])
    c.finalize()
    return {k: (float(np.mean(v)), block_error(np.asarray(v))) for k, v in series.items()}


@pytest.mark.slow
@pytest.mark.parametrize("temperature, density, u_ref, p_ref", NIST, ids=["T0.85-rho0.82", "T0.90-rho0.86"])
def test_lj_energy_and_pressure_match_nist(temperature: float, density: float, u_ref: float,
                                           p_ref: float) -> None:
    r = run_state_point(temperature, density)
    (u, su), (p, sp), (t, st) = r["potential_energy"], r["pressure"], r["temperature"]
    report = (f"T*={temperature} rho*={density}: U/N = {u:.4f} +- {su:.4f} (NIST {u_ref}), "
              f"p = {p:.4f} +- {sp:.4f} (NIST {p_ref}), T = {t:.4f} +- {st:.4f}")
    print(report)
    assert abs(u - u_ref) < 3 * su + DELTA_U, report
    assert abs(p - p_ref) < 3 * sp + DELTA_P, report
    assert abs(t - temperature) < 3 * st + 0.005, report
    # the error bars are those of a real run, not degenerate
    assert 0 < su < 0.02 and 0 < sp < 0.1, report
