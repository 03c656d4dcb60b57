"""``fluid.diffusion``'s linear sink (``sink_in``) and ``decay``: implicit treatment, stability, errors."""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid.diffusion import Diffusion

import msmcore as msm


class Rates(msm.Component):
    """A fixed uptake-rate field (and a source) on an n x n grid."""

    dt = msm.Setting(float, default=1.0)
    n = msm.Setting(int, default=16)
    peak = msm.Setting(float, default=1e5)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("lam_out", (self.n, self.n), units="1/s"),
                msm.Port.output("s_out", (self.n, self.n), units="1/s")]

    def initialize(self) -> None:
        lam = self.port_array("lam_out")
        lam[...] = 0.0
        lam[4:8, 5:9] = self.peak  # a strongly consuming patch: dt * lambda >> 1
        self.port_array("s_out")[...] = 1.0

    def step(self, dt: float) -> None:
        pass


def _steady(method: str, dt: float, until: float, peak: float = 1e5) -> np.ndarray:
    c = msm.Coupling()
    c.add("rates", Rates, dt=dt, peak=peak)
    d = c.add("d", "fluid.diffusion", shape=(16, 16), spacing=1.0 / 16, D=1.0, dt=dt, method=method,
              boundary="dirichlet", boundary_value=2.0, decay=0.5, ksp_rtol=1e-13)
    c.connect("rates.lam_out", "d.sink_in", mapping="identity")
    c.connect("rates.s_out", "d.source_in", mapping="identity")
    c.run(until=until, scheme=msm.Serial(order=["rates", "d"]), quiet=True)
    return d.port_array("state_out").copy()


def test_explicit_and_implicit_sinks_reach_the_same_steady_state_and_stay_stable() -> None:
    # Both schemes' fixed points solve D L u + s - (lambda + mu) u = 0 exactly (the explicit one: u (1 + dt k)
    # = u + dt (D L u + s)), so they must agree to the solvers' tolerance; dt * lambda = 1e5 * dt ~ 100 here,
    # far beyond where an explicit treatment of the sink would blow up (it needs dt * lambda < 2). The slowest
    # mode decays at about mu + 2 pi^2 D ~ 20/s, so t = 1.5 leaves ~1e-13 of the initial transient.
    h = 1.0 / 16
    dt_explicit = h * h / 4.0  # the diffusion limit h^2 / (2 dim D)
    implicit = _steady("implicit", 1e6, 3e6)
    explicit = _steady("explicit", dt_explicit, 1.5)
    assert dt_explicit * 1e5 > 50
    assert np.all(np.isfinite(explicit)) and explicit.min() >= 0.0
    np.testing.assert_allclose(explicit, implicit, rtol=0, atol=1e-9)
    # and the steady state is the solution of the linear system assembled independently here
    n = 16
    lam = np.zeros((n, n))
    lam[4:8, 5:9] = 1e5
    k = (lam + 0.5).reshape(-1)
    idx = np.arange(n * n).reshape(n, n)
    A = np.zeros((n * n, n * n))
    b = np.ones(n * n)
    held = np.zeros((n, n), dtype=bool)
    held[[0, -1], :] = held[:, [0, -1]] = True
    for i in range(n):
        for j in range(n):
            p = idx[i, j]
            if held[i, j]:
                A[p, p], b[p] = 1.0, 2.0
                continue
            A[p, p] = 4.0 / h**2 + k[p]
            for q in (idx[i - 1, j], idx[i + 1, j], idx[i, j - 1], idx[i, j + 1]):
                A[p, q] = -1.0 / h**2
    np.testing.assert_allclose(implicit.reshape(-1), np.linalg.solve(A, b), rtol=0, atol=1e-10)


def test_decay_alone_is_backward_euler_exactly() -> None:
    # a uniform field with zero-flux walls only decays: u_n = u_0 / (1 + mu dt)^n (backward Euler, exact)
    d = Diffusion(shape=(8,), spacing=0.1, D=1.0, dt=0.2, method="implicit", decay=3.0, initial=5.0)
    d.initialize()
    d.advance(1.0)
    np.testing.assert_allclose(d.port_array("state_out"), 5.0 / (1 + 3.0 * 0.2) ** 5, rtol=1e-12)
    d.finalize()
    e = Diffusion(shape=(8,), spacing=0.1, D=1.0, dt=0.002, method="explicit", decay=3.0, initial=5.0)
    e.initialize()
    e.advance(1.0)
    np.testing.assert_allclose(e.port_array("state_out"), 5.0 / (1 + 3.0 * 0.002) ** 500, rtol=1e-11)


def test_a_negative_or_nan_uptake_rate_is_refused() -> None:
    d = Diffusion(shape=(4, 4), spacing=0.25, D=1.0, dt=0.01, method="implicit")
    d.initialize()
    d.port_array("sink_in")[1, 2] = -1.0
    with pytest.raises(msm.CouplingError, match=r"'sink_in' received 1 uptake rate.*-1.0 at local cell \(1, 2\)"):
        d.receive("sink_in")
    d.port_array("sink_in")[1, 2] = np.nan
    with pytest.raises(msm.CouplingError, match="must be >= 0"):
        d.receive("sink_in")
    d.finalize()
    with pytest.raises(msm.ConfigurationError, match="decay"):
        Diffusion(shape=(4,), D=1.0, dt=0.01, decay=-1.0)


def test_the_sink_is_part_of_the_state() -> None:
    d = Diffusion(shape=(6,), spacing=0.1, D=1.0, dt=0.01, method="implicit", initial=1.0)
    d.initialize()
    d.port_array("sink_in")[...] = 7.0
    d.receive("sink_in")
    saved = d.save_state()
    d.advance(0.05)
    after = d.port_array("state_out").copy()
    d.port_array("sink_in")[...] = 0.0
    d.receive("sink_in")
    d.restore_state(saved)
    d.t = 0.0
    d.advance(0.05)
    assert d.port_array("state_out").tobytes() == after.tobytes()
    d.finalize()
