"""examples/hmm_couette: LJ channel flow with an md.lj shear-stress closure per face, reduced size.

References: the zero-shear viscosity of the LJ liquid at its triple point (T* = 0.722,
rho* = 0.8442), eta* = 3.24 +- 0.04 (Green-Kubo, N = 2048; Ferrario, Ciccotti, Holian &
Ryckaert, Phys. Rev. A 44, 6936 (1991)); the steady plane Poiseuille profile of a Newtonian
fluid u = G y (H - y) / (2 eta) and, for any fluid, the steady stress tau = G (H/2 - y) from
the momentum balance (Bird, Stewart & Lightfoot, Transport Phenomena, 2nd ed., sec. 2.3 and
8.3); the noise of a time-averaged shear stress, var = 2 k_B T eta / (V t) (Evans & Morriss,
Statistical Mechanics of Nonequilibrium Liquids, 2nd ed., 2008, ch. 4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from example_loader import load_example

import msmcore as msm

pytest.importorskip("openmm")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hmm_couette"



def load(name: str):
    return load_example("hmm_couette", name)


shear = load("shear")
couette = load("couette")


class Thinning(msm.Component):
    """Closure tau = eta0 gdot / (1 + gdot / gc) per point (a shear-thinning law with a known inverse)."""

    eta0 = msm.Setting(float, default=3.24)
    gc = msm.Setting(float, default=2.0)
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("shear_rate_in", 1, units="1/tau"),
                msm.Port.output("shear_stress_out", 1, units="epsilon/sigma^3")]

    def time_step(self):
        return None

    def advance(self, t_end):
        g = self.port_array("shear_rate_in")
        self.port_array("shear_stress_out")[:] = self.eta0 * g / (1.0 + np.abs(g) / self.gc)
        self.t = t_end


def steady(closure, n=8, until=400.0, **settings):
    c = msm.Coupling()
    c.add("macro", shear.Channel, n=n, dt=10.0, G=0.15)
    c.add("micro", closure, per_point="macro.shear_rate_out", ensemble={"mode": "closure", "horizon": 1.0},
          **settings)
    c.connect("macro.shear_rate_out", "micro.shear_rate_in")
    c.connect("micro.shear_stress_out", "macro.shear_stress_in")
    res = c.run(until=until, scheme=msm.MacroMicro("macro", "micro", horizon=10.0), quiet=True)
    return res["macro"]["velocity_out"].values[-1], shear.Channel(n=n, G=0.15)


def test_macro_with_a_newtonian_closure_reaches_the_poiseuille_parabola():
    # The discrete steady state has tau = G (H/2 - y) on every face and u = sum(h tau / eta):
    # the midpoint rule of a linear integrand, exact at the nodes. 400 tau is 40 steps of the
    # slowest mode (rate eta (pi/H)^2 / rho = 0.095 /tau; backward Euler with dt = 10 shrinks it
    # by 1.95 per step): tolerance 1e-9 relative.
    u, macro = steady(shear.Newtonian, eta=3.24)
    np.testing.assert_allclose(u, macro.newtonian(3.24), rtol=1e-9, atol=1e-12)


def test_macro_with_a_thinning_closure_reaches_that_closures_steady_profile():
    # The deferred correction (Newtonian implicit part, the closure's departure explicit)
    # converges to the closure's own steady state, not the Newtonian one: the profile from
    # tau(gdot) = G (H/2 - y) inverted per face (bisection, 80 halvings), 1e-7 relative. At the
    # steady state each step contracts the error by at most 1 - eta_t/eta_ref (eta_t =
    # dtau/dgdot >= 1.98 here, so <= 0.39): 100 steps are plenty.
    u, macro = steady(Thinning, until=1000.0)
    law = Thinning()
    exact = macro.steady_profile(lambda g: law.eta0 * g / (1.0 + g / law.gc))
    np.testing.assert_allclose(u, exact, rtol=1e-7, atol=1e-12)
    assert u[-1] > 1.05 * macro.newtonian(3.24)[-1]  # thinning speeds the flow up (and is seen)


def test_shear_cell_refuses_an_odd_number_of_slabs():
    with pytest.raises(msm.ConfigurationError, match="n_bins=7 must be even"):
        shear.ShearCell(n_bins=7)


def test_shear_cell_refuses_a_margin_that_leaves_no_slope():
    with pytest.raises(msm.ConfigurationError, match="margin=2 leaves 1 sheared slabs per half"):
        shear.ShearCell(n_bins=12, margin=2)


#: Per-run noise of tau/gdot for the default cell (432 particles, 5 tau averaged): the
#: stress noise 2 k_B T eta / (V t) (V = the 18 averaged slabs, 384 sigma^3: sigma_tau = 0.049)
#: and the noise of the measured slope; both together measured as the scatter over 8
#: replicas (README): sigma_eta * gdot = 0.053, 0.024, 0.054, 0.056 at gdot = 0.1, 0.2, 0.3,
#: 0.5, then 0.069 at 0.7 and 0.096 at 1.0. Taken as 0.06 up to 0.5 and 0.10 at 1.0.
SIGMA_TAU_EFF = 0.06


@pytest.mark.slow
def test_md_closure_extrapolates_to_the_triple_point_viscosity():
    # tau/gdot at gdot = 0.3 (3 replicas) and 1.0 (1), each 5 tau averaged after 1 tau from
    # the sawtooth start profile, extrapolated to gdot = 0 through eta0 - A gdot^(1/2)
    # (the mode-coupling form of simple liquids at moderate rates, Kawasaki & Gunton,
    # Phys. Rev. A 8, 2048 (1973)): eta0 = (eta_a sqrt(b) - eta_b sqrt(a)) / (sqrt(b) -
    # sqrt(a)) = 2.21 eta(0.3) - 1.21 eta(1.0). Reference: eta(0) = 3.24 +- 0.04 (Green-Kubo,
    # Ferrario et al. 1991, who find the curve flatter, quadratic, at the lowest rates, so
    # this intercept is expected to sit slightly above it). Bound: 3 sigma of the intercept
    # (sigma_eta per run = 0.06/0.3 and 0.10/1.0, over sqrt(replicas), propagated: 0.28, 9 %)
    # plus the reference's 0.04: 0.89 (27 %). Measured: eta(0.3) = 2.64, eta(1.0) = 2.04,
    # intercept 3.37 (+4 %). The full sweep (README, 48 runs) gets 3.40 +- 0.07.
    rates = np.array([0.3, 1.0])
    reps = np.array([3, 1])
    rate, _, temp, eta, _ = couette.flow_curve(rates, replicas=reps, equilibrate=1000)
    ra, rb = np.sqrt(rates)
    eta0 = (eta[0] * rb - eta[1] * ra) / (rb - ra)
    sigma = np.array([SIGMA_TAU_EFF, 0.10]) / rates / np.sqrt(reps)
    sigma0 = np.hypot(rb * sigma[0], ra * sigma[1]) / (rb - ra)
    assert np.all(np.abs(rate / rates - 1.0) < 0.15)  # the slab-speed correction: rates within 15 %
    # the thermostat's target, corrected; at gdot = 1 the viscous heating between rescalings
    # (every 10 steps) adds ~0.025 (the sweep's 8 replicas: 0.733-0.757)
    assert abs(temp[0] - shear.T_STAR) < 0.03 and abs(temp[1] - shear.T_STAR) < 0.05
    assert abs(eta0 - shear.ETA_STAR) < 3.0 * sigma0 + shear.ETA_ERR
    # shear thinning (Ferrario et al. 1991: eta falls with the rate) is resolved at gdot = 1
    assert eta[1] < shear.ETA_STAR - 3.0 * sigma[1]


@pytest.mark.slow
def test_coupled_md_channel_against_the_newtonian_solution():
    # The MD-macro coupling at test size: 2 faces (h = 5 sigma, G = 0.15: face stresses
    # G (H/2 - y) = 1.125 and 0.375, rates ~0.45 and ~0.13), macro steps of 1e4 tau (each
    # window goes to the steady state of its stresses: a fixed-point iteration of the
    # closure, contracting by |1 - eta_t/eta_ref| ~ 0.1 with eta_ref = 2.3), 3 windows (rest:
    # zero stress by symmetry, no MD; then twice 2 MD runs of 6 tau, 5 tau averaged). Reference: the
    # steady Newtonian profile u = G y (H - y) / (2 eta) at eta = 3.24 (Bird, Stewart &
    # Lightfoot sec. 2.3; Ferrario et al. 1991). Noise of the centreline speed: u_c = h
    # (gdot_1 + gdot_2), each face's rate off by sigma_tau / eta_t (sigma_tau = SIGMA_TAU_EFF
    # per face, eta_t = dtau/dgdot >= 2.0): sigma_u = 0.21, 9 % of u_N — at this size the
    # check is against gross errors (a wrong sign, unit, factor of two, or a coupling that
    # does not reach the fixed point); the full-size numbers are in the README.
    # Bounds: the flow is not slower than Newtonian at eta(0) (thinning only speeds it up)
    # beyond 3 sigma_u; and not faster than 35 % + 3 sigma_u — tau/gdot of this cell stays
    # above 2.4 = eta(0) / 1.35 for gdot <= 0.5 (its flow curve in the README; not a
    # published number, a check against gross errors). Measured: see the README.
    res, _ = couette.run(2, until=3.0e4, horizon=6.0, dt=1.0e4, eta_ref=2.3, equilibrate=1000)
    macro = shear.Channel(n=2, G=0.15)
    newton = macro.newtonian(shear.ETA_STAR)[-1]
    u = res["macro"]["velocity_out"].values[-1]
    rates = res["macro"]["shear_rate_out"].values[-1]
    runs = res["micro"]["ensemble_report"].sel(report="micro_runs").values[1:, 0]
    np.testing.assert_array_equal(runs, [2, 2, 2])  # every face every window (at rest: zero stress, no MD)
    sigma_u = macro.h * np.sqrt(len(rates)) * SIGMA_TAU_EFF / 2.0
    assert np.all(np.diff(u) > 0)
    ratio = u[-1] / newton
    assert ratio > 1.0 - 3.0 * sigma_u / newton, ratio
    assert ratio < 1.35 + 3.0 * sigma_u / newton, ratio


@pytest.mark.slow
def test_md_closure_runs_in_the_coupling_behind_the_surrogate():
    # The whole chain at the smallest size (2 faces, 3 windows, 2 tau MD per evaluation):
    # the first window's identical inputs (fluid at rest) are evaluated once (zero stress by
    # symmetry, no MD), then every face in every window is an MD run or a prediction, and the
    # flow is the right way round (u rising from the wall to the centreline, below the steady
    # Newtonian centreline speed after one step from rest: the start-up series (Bird, Stewart
    # & Lightfoot sec. 4.1; leading term 1 - (32/pi^3) exp(-pi^2 eta t / (rho H^2))) is at
    # 0.60 of it at t = 10 tau, and one backward Euler step lags behind that; MD noise at
    # 2 tau in the 216-atom box, sigma_tau ~ 0.1, is far smaller).
    res, _ = couette.run(2, couette.surrogate_spec(), until=30.0, horizon=2.0, equilibrate=400,
                         cells=(3, 6, 3), n_bins=12)  # the 216-atom box: this test checks the chain
    rep = res["micro"]["ensemble_report"]
    runs = rep.sel(report="micro_runs").values[1:, 0]
    predicted = rep.sel(report="predictions").values[1:, 0]
    assert runs[0] == 1 and predicted[0] == 0  # both faces at gdot = 0: one distinct input, run once
    np.testing.assert_array_equal(runs[1:] + predicted[1:], [2, 2])  # then each face: run or predicted
    u = res["macro"]["velocity_out"].values
    assert np.all(np.diff(u[-1]) > 0) and u[1, -1] < shear.Channel(n=2).newtonian(shear.ETA_STAR)[-1]
