"""Implicit coupling: fixed-point iterations, accelerations, state restore, divergence, time interpolation."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm

# H(x) = M x + c(t) on the coupled data, c(t) = C (1 + t) at the window's end; the exact
# fixed point is x* = (I - M)^-1 c(t). M's spectral radius is about 0.7.
M = np.array([[0.5, 0.2, 0.0], [0.1, 0.4, 0.2], [0.0, 0.2, 0.5]])
C = np.array([1.0, -2.0, 0.5])


class Affine(msm.Component):
    """out = M @ in + C (1 + t_end), recomputed on each advance; counts its advances."""

    n = msm.Setting(int, default=3)

    def declare_ports(self):
        return [msm.Port.input("x_in", self.n), msm.Port.output("y_out", self.n)]

    def initialize(self):
        self.advances = np.zeros(1)  # an array attribute: saved and restored by the base class

    def advance(self, t_end):
        np.add(M @ self.port_array("x_in"), C * (1.0 + t_end), out=self.port_array("y_out"))
        self.advances += 1
        self.t = t_end


class Identity(msm.Component):
    """Passes its input through (the second participant of the loop)."""

    n = msm.Setting(int, default=3)

    def declare_ports(self):
        return [msm.Port.input("x_in", self.n), msm.Port.output("y_out", self.n)]

    def advance(self, t_end):
        self.port_array("y_out")[:] = self.port_array("x_in")
        self.t = t_end


def loop() -> msm.Coupling:
    c = msm.Coupling()
    c.add("a", Affine)
    c.add("b", Identity)
    c.connect("a.y_out", "b.x_in")
    c.connect("b.y_out", "a.x_in")
    return c


def exact(t: float) -> np.ndarray:
    return np.linalg.solve(np.eye(3) - M, C * (1.0 + t))


@pytest.mark.parametrize("acceleration", [msm.ConstantRelaxation(0.5), msm.Aitken(0.5), msm.IQNILS(0.1)])
def test_converges_to_the_fixed_point(acceleration):
    c = loop()
    res = c.run(until=2.0, scheme=msm.Implicit(1.0, acceleration=acceleration, rel_tol=1e-12,
                                               max_iterations=300))
    # Converged to rel 1e-12 in the coupled data; the fixed point is exact up to that
    # amplified by 1 / (1 - 0.7).
    np.testing.assert_allclose(res["a"]["y_out"].values[1], exact(1.0), rtol=1e-10)
    np.testing.assert_allclose(res["a"]["y_out"].values[-1], exact(2.0), rtol=1e-10)
    assert res.info["coupled"] == ["b.y_out -> a.x_in"]
    assert len(res.info["iterations"]) == 2


def test_iqn_ils_beats_aitken_beats_constant_relaxation():
    counts = {}
    for name, acc in [("constant", msm.ConstantRelaxation(0.5)), ("aitken", msm.Aitken(0.5)),
                      ("iqn", msm.IQNILS(0.1, reuse=0))]:
        res = loop().run(until=1.0, scheme=msm.Implicit(1.0, acceleration=acc, rel_tol=1e-12, max_iterations=300))
        counts[name] = res.info["iterations"][0]
    # IQN-ILS solves an affine 3-dimensional fixed point after 3 columns: one relaxed
    # first iteration, three that add a column, one that confirms the residual, and
    # one more when round-off keeps it just above rel_tol = 1e-12: at most 6.
    assert counts["iqn"] <= 6
    assert counts["iqn"] < counts["aitken"] < counts["constant"], counts


def test_iqn_ils_reuses_columns_from_earlier_windows():
    without = loop().run(until=3.0, scheme=msm.Implicit(1.0, acceleration=msm.IQNILS(0.1, reuse=0), rel_tol=1e-12))
    with_reuse = loop().run(until=3.0, scheme=msm.Implicit(1.0, acceleration=msm.IQNILS(0.1, reuse=4), rel_tol=1e-12))
    # The Jacobian is the same every window: reused columns make later windows converge sooner.
    assert sum(with_reuse.info["iterations"][1:]) < sum(without.info["iterations"][1:])


def test_components_are_restored_every_iteration():
    c = loop()
    c.run(until=3.0, scheme=msm.Implicit(1.0, acceleration=msm.Aitken(), rel_tol=1e-12))
    # Three windows: without restore the counter would hold the total number of iterations.
    assert c.components["a"].advances[0] == 3


def test_parallel_variant_iterates_on_all_connections():
    res = loop().run(until=1.0, scheme=msm.Implicit(1.0, variant="parallel", acceleration=msm.IQNILS(0.1),
                                                    rel_tol=1e-12, max_iterations=100))
    assert res.info["coupled"] == ["a.y_out -> b.x_in", "b.y_out -> a.x_in"]
    np.testing.assert_allclose(res["a"]["y_out"].values[-1], exact(1.0), rtol=1e-10)


def test_not_converging_raises_naming_window_time_and_residuals():
    scheme = msm.Implicit(1.0, acceleration=msm.ConstantRelaxation(0.5), rel_tol=1e-14, max_iterations=3)
    with pytest.raises(msm.ConvergenceError, match=r"window 0 \(t = 0 to 1\) did not converge in 3 iterations"
                       r".*a.x_in: \|r\| = [0-9.e+-]+"):
        loop().run(until=2.0, scheme=scheme)


def test_not_converging_can_warn_and_go_on():
    scheme = msm.Implicit(1.0, acceleration=msm.ConstantRelaxation(0.5), rel_tol=1e-14, max_iterations=3,
                          on_divergence="warn")
    with pytest.warns(msm.ConvergenceWarning, match="did not converge") as record:
        res = loop().run(until=2.0, scheme=scheme)
    assert [("window 0" in str(w.message), "window 1" in str(w.message)) for w in record] == [(True, False), (False, True)]
    assert res.info["iterations"] == [3, 3]


def test_bad_arguments():
    with pytest.raises(msm.ConfigurationError, match="variant must be"):
        msm.Implicit(1.0, variant="jacobi")
    with pytest.raises(msm.ConfigurationError, match="0 < omega <= 1"):
        msm.ConstantRelaxation(1.5)
    with pytest.raises(msm.CouplingError, match="tolerances name \\['a.y'\\]"):
        loop().run(until=1.0, scheme=msm.Implicit(1.0, tolerances={"a.y": (1e-3, 0.0)}))


class Ramp(msm.Component):
    """Outputs t (its clock) in one cell."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("t_out", 1)]

    def step(self, dt):
        self.port_array("t_out")[0] = self.t + dt


class Sampler(msm.Component):
    """Sub-cycles with dt = 0.25 and logs what its input holds at each sub-step."""

    dt = msm.Setting(float, default=0.25)

    def declare_ports(self):
        return [msm.Port.input("u_in", 1)]

    def initialize(self):
        self.seen: list[float] = []

    def step(self, dt):
        self.seen.append(float(self.port_array("u_in")[0]))


@pytest.mark.parametrize("interpolate", [False, True])
def test_time_interpolation_of_inputs_while_subcycling(interpolate):
    c = msm.Coupling()
    c.add("ramp", Ramp)
    c.add("s", Sampler)
    c.connect("ramp.t_out", "s.u_in", interpolate=interpolate)
    c.run(until=2.0, scheme=msm.Serial(window=1.0))
    seen = c.components["s"].seen
    if interpolate:
        # Linear in time between the window's ends, at each sub-step's end: exactly t.
        np.testing.assert_allclose(seen, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0], rtol=1e-15)
    else:
        assert seen == [1.0] * 4 + [2.0] * 4
