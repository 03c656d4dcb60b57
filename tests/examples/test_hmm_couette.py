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


@pytest.mark.slow
def test_md_closure_gives_the_triple_point_viscosity_at_low_shear():
    # One md.lj shear run, 216 particles at (T*, rho*) = (0.722, 0.8442), gdot = 0.2, 8 tau
    # averaged after 2 tau of spin-up. Error estimate of tau/gdot_measured: the stress noise
    # 2 k_B T eta/(V t) (V = the 10 sheared slabs, t = 8: sigma_tau = 0.052) and the noise of
    # the measured rate, sigma_gdot = 0.045 (the scatter of the slope over seeds 1-4: 0.19,
    # 0.145, 0.196, 0.256 — it also carries the slab-speed correction's own noise), combined
    # in quadrature: sigma_eta ~ 0.6. Bound: 3 sigma_eta plus the reference's 0.04 and 0.1
    # for the thinning at gdot = 0.2. Measured (seed 1): rate 0.190, tau/gdot 2.26 (error
    # 0.98, bound ~1.9); seeds 2-4 give 3.16, 2.99, 2.59. A weak check (it catches a wrong
    # sign, unit or factor of two in the closure), limited by the noise of a 10 s run.
    cell = shear.ShearCell(seed=1)
    cell.initialize()
    cell.port_array("shear_rate_in")[0] = 0.2
    cell.receive("shear_rate_in")
    cell.advance(10.0)
    rate, stress = cell.measured_rate, float(cell.port_array("shear_stress_out")[0])
    volume = float(np.prod(cell.md.geometry.length)) * 10 / 12
    sigma_rate = 0.045
    sigma_eta = np.hypot(couette.stress_noise(volume, 8.0) / rate, shear.ETA_STAR * sigma_rate / rate)
    assert abs(rate - 0.2) < 3.0 * sigma_rate  # the slab speed correction hits the requested rate
    assert abs(cell.measured_temperature - shear.T_STAR) < 0.03  # the thermostat's target, corrected
    assert abs(stress / rate - shear.ETA_STAR) < 3.0 * sigma_eta + 0.1 + shear.ETA_ERR
    cell.finalize()


@pytest.mark.slow
def test_md_closure_runs_in_the_coupling_behind_the_surrogate():
    # The whole chain at the smallest size (2 faces, 3 windows, 2 tau MD per evaluation):
    # the first window's identical inputs (fluid at rest) run once, then every face in every
    # window is an MD run or a prediction, and the flow is the right way round (u rising from the
    # wall to the centreline, below the steady Newtonian centreline speed after one step from
    # rest: the start-up series (Bird, Stewart & Lightfoot sec. 4.1; leading term
    # 1 - (32/pi^3) exp(-pi^2 eta t / (rho H^2))) is at 0.60 of it at t = 10 tau, and one
    # backward Euler step lags behind that; MD noise at 2 tau, sigma_tau ~ 0.1, is far smaller).
    res, _ = couette.run(2, couette.surrogate_spec(), until=30.0, horizon=2.0, spinup=1.0, equilibrate=400)
    rep = res["micro"]["ensemble_report"]
    runs = rep.sel(report="micro_runs").values[1:, 0]
    predicted = rep.sel(report="predictions").values[1:, 0]
    assert runs[0] == 1 and predicted[0] == 0  # both faces at gdot = 0: one distinct input, run once
    np.testing.assert_array_equal(runs[1:] + predicted[1:], [2, 2])  # then each face: run or predicted
    u = res["macro"]["velocity_out"].values
    assert np.all(np.diff(u[-1]) > 0) and u[1, -1] < shear.Channel(n=2).newtonian(shear.ETA_STAR)[-1]
