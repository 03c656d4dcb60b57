"""Implicit coupling: fixed-point iterations, accelerations, state restore, divergence, time interpolation."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

import msmcore as msm
from msmcore.acceleration import ConstantPreconditioner

# H(x) = M x + c(t) on the coupled data, c(t) = C (1 + t) at the window's end; the exact
# fixed point is x* = (I - M)^-1 c(t). M's spectral radius is about 0.7.
M = np.array([[0.5, 0.2, 0.0], [0.1, 0.4, 0.2], [0.0, 0.2, 0.5]])
C = np.array([1.0, -2.0, 0.5])


class Affine(msm.Component):
    """out = M @ in + C (1 + t_end), recomputed on each advance; counts its advances."""

    n = msm.Setting(int, default=3)
    state_attributes = ("advances",)

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
    state_attributes = ()

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
    seen = [("window 0" in str(w.message), "window 1" in str(w.message)) for w in record]
    assert seen == [(True, False), (False, True)]
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


# -- pre-scaling (point 10 of issue 11) ------------------------------------------------
# A linear Jacobi loop whose two coupled fields differ by a factor S in magnitude:
# "small" gives x = B1 y / S + c1 (1 + t) from the large field y, "large" gives
# y = S (B2 x + c2 (1 + t)) from x. Fixed point at the window's end t:
# x* = (I - B1 B2)^-1 (B1 c2 + c1) (1 + t), y* = S (B2 x* + c2 (1 + t)).
# B1 B2 has spectral radius 0.9 (a slow plain fixed point); 6 values per field.
_rng = np.random.default_rng(20161)
B1, B2 = _rng.normal(size=(6, 6)), _rng.normal(size=(6, 6))
B1 *= 0.9 / max(abs(np.linalg.eigvals(B1 @ B2)))
C1, C2 = _rng.normal(size=6), _rng.normal(size=6)


class Small(msm.Component):
    """x_out = B1 y_in / S + c1 (1 + t)."""

    state_attributes = ()

    S = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("y_in", 6), msm.Port.output("x_out", 6)]

    def advance(self, t_end):
        self.port_array("x_out")[:] = B1 @ self.port_array("y_in") / self.S + C1 * (1.0 + t_end)
        self.t = t_end


class Large(msm.Component):
    """y_out = S (B2 x_in + c2 (1 + t))."""

    state_attributes = ()

    S = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("x_in", 6), msm.Port.output("y_out", 6)]

    def advance(self, t_end):
        self.port_array("y_out")[:] = self.S * (B2 @ self.port_array("x_in") + C2 * (1.0 + t_end))
        self.t = t_end


def two_scales(S: float) -> msm.Coupling:
    c = msm.Coupling()
    c.add("small", Small, S=S)
    c.add("large", Large, S=S)
    c.connect("small.x_out", "large.x_in")
    c.connect("large.y_out", "small.y_in")
    return c


def two_scales_exact(S: float, t: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.linalg.solve(np.eye(6) - B1 @ B2, B1 @ C2 + C1) * (1.0 + t)
    return x, S * (B2 @ x + C2 * (1.0 + t))


def run_two_scales(S: float, acceleration: msm.Acceleration) -> msm.Result:
    scheme = msm.Implicit(1.0, variant="parallel", acceleration=acceleration, rel_tol=1e-12, abs_tol=0.0,
                          max_iterations=60, on_divergence="warn")
    return two_scales(S).run(until=3.0, scheme=scheme)


@pytest.mark.parametrize("preconditioner", ["residual-sum", "value"])
def test_prescaled_iqn_ils_converges_alike_for_fields_a_million_apart(preconditioner):
    same = run_two_scales(1.0, msm.IQNILS(0.1, reuse=2, preconditioner=preconditioner))
    apart = run_two_scales(1e6, msm.IQNILS(0.1, reuse=2, preconditioner=preconditioner))
    x, y = two_scales_exact(1e6, 3.0)
    # Converged to rel 1e-12 per field; amplified by at most 1 / (1 - 0.9).
    np.testing.assert_allclose(apart["small"]["x_out"].values[-1], x, rtol=1e-10)
    np.testing.assert_allclose(apart["large"]["y_out"].values[-1], y, rtol=1e-10)
    assert max(apart.info["iterations"]) < 60
    if preconditioner == "residual-sum":
        # Residual shares balance the blocks without being exactly invariant to a
        # block's units: allow one more iteration per window.
        assert sum(apart.info["iterations"]) <= sum(same.info["iterations"]) + 3, (same.info, apart.info)
    else:
        # Weights 1 / |H(x)_i| scale with a block's units: the weighted least-squares
        # problem is the same in any units, up to round-off. ("residual" would be too,
        # but a converged block's weight 1 / |r_i| grows without bound; it is tested
        # for its definition only.)
        assert apart.info["iterations"] == same.info["iterations"]


def test_iqn_ils_needs_prescaling_for_fields_a_million_apart():
    # The control for the test above: the unweighted least-squares problem sees
    # mostly the large field and the QR filter leaves out what the small field
    # adds, so the same loop takes clearly more iterations than in one unit.
    same = run_two_scales(1.0, msm.IQNILS(0.1, reuse=2, preconditioner="none"))
    apart = run_two_scales(1e6, msm.IQNILS(0.1, reuse=2, preconditioner="none"))
    assert sum(apart.info["iterations"]) >= sum(same.info["iterations"]) + 6, (same.info["iterations"],
                                                                              apart.info["iterations"])


def test_constant_preconditioner_with_the_known_magnitudes():
    acc = msm.IQNILS(0.1, reuse=2, preconditioner="constant", scaling={"small.y_in": 1e6})
    res = run_two_scales(1e6, acc)
    same = run_two_scales(1.0, msm.IQNILS(0.1, reuse=2, preconditioner="none"))
    # Weight 1e-6 on the large block undoes its units exactly: the same iterations as in one unit.
    assert res.info["iterations"] == same.info["iterations"]
    np.testing.assert_array_equal(acc.preconditioner.weights, [1.0, 1e-6])
    with pytest.raises(msm.ConfigurationError, match=r"scaling names \['small.nope'\], which are not coupled"):
        run_two_scales(1e6, msm.IQNILS(preconditioner="constant", scaling={"small.nope": 2.0}))


def test_preconditioner_weights_follow_precice_definitions():
    from msmcore.preconditioner import ResidualPreconditioner, ResidualSumPreconditioner, ValuePreconditioner

    x = np.zeros(4)
    r1 = np.array([3e6, 4e6, 0.3, 0.4])     # block norms 5e6 and 0.5
    r2 = np.array([0.0, 1e6, 0.0, 0.5])     # block norms 1e6 and 0.5
    n1, n2 = np.array([5e6, 0.5]), np.array([1e6, 0.5])
    rs = ResidualSumPreconditioner()
    rs.setup([2, 2], ["a", "b"])
    rs.start_window()
    rs.update(x, x + r1, r1)
    np.testing.assert_allclose(rs.weights, 1 / (n1 / np.linalg.norm(n1)), rtol=1e-14)
    rs.update(x, x + r2, r2)  # the shares add up over the window ...
    np.testing.assert_allclose(rs.weights, 1 / (n1 / np.linalg.norm(n1) + n2 / np.linalg.norm(n2)), rtol=1e-14)
    rs.end_window()
    rs.start_window()
    rs.update(x, x + r2, r2)  # ... and restart with the next one
    np.testing.assert_allclose(rs.weights, 1 / (n2 / np.linalg.norm(n2)), rtol=1e-14)
    lazy = ResidualSumPreconditioner(update_on_threshold=True)
    lazy.setup([2, 2])
    lazy.start_window()
    lazy.update(x, x + r1, r1)  # weight 2e6 instead of 1: a change by more than 10x, applied
    first = 1 / (n1 / np.linalg.norm(n1))
    np.testing.assert_allclose(lazy.weights, first, rtol=1e-14)
    lazy.update(x, x + r2, r2)  # the sums would change the weights 2x and 6x only: kept
    np.testing.assert_allclose(lazy.weights, first, rtol=1e-14)
    res = ResidualPreconditioner()
    res.setup([2, 2])
    res.start_window()
    res.update(x, x + r1, r1)
    np.testing.assert_allclose(res.weights, 1 / n1, rtol=1e-14)
    res.update(x, x + r2, r2)
    np.testing.assert_allclose(res.weights, 1 / n2, rtol=1e-14)
    val = ValuePreconditioner(freeze_after=1)
    val.setup([2, 2])
    val.start_window()
    val.update(x, r1, r1)       # first iteration of the window: 1 / |H(x)_i|
    val.update(x, r2, r2)       # later iterations keep them
    np.testing.assert_allclose(val.weights, 1 / n1, rtol=1e-14)
    val.end_window()
    val.start_window()
    val.update(x, r2, r2)       # frozen after one window
    np.testing.assert_allclose(val.weights, 1 / n1, rtol=1e-14)
    np.testing.assert_allclose(val.apply(np.ones(4)), np.repeat(1 / n1, 2), rtol=1e-14)


def test_a_second_run_repeats_the_first():
    # The scheme (and its IQN-ILS columns) serves both runs: setup() forgets the first.
    scheme = msm.Implicit(1.0, acceleration=msm.IQNILS(0.1, reuse=4), rel_tol=1e-12)
    first = loop().run(until=3.0, scheme=scheme).info["iterations"]
    second = loop().run(until=3.0, scheme=scheme).info["iterations"]
    assert first == second


def test_unusable_columns_are_logged_with_counts(caplog):
    acc = msm.IQNILS(0.5, reuse=2)
    acc.setup([2], ["a.x"])
    with caplog.at_level(logging.INFO, logger="msmcore.acceleration"):
        acc.start_window()
        x = np.zeros(2)
        # H(x) = 2x + 1 along the diagonal: every V column is a multiple of (1, 1),
        # so each new one after the first is filtered; a repeated pair gives a zero column.
        for _ in range(3):
            x = acc.next(x, 2 * x + 1)
        acc.next(x, 2 * x + 1)
        acc.next(x, 2 * x + 1)
        acc.end_window()
        assert acc.dropped["filtered"] >= 1 and acc.dropped["zero"] >= 1, acc.dropped
        summary = [r for r in caplog.records if "columns not used" in r.getMessage()]
        assert len(summary) == 1 and summary[0].levelno == logging.INFO
        assert (f"{acc.dropped['filtered']} left out of a solve by the QR filter" in summary[0].getMessage()
                and f"{acc.dropped['zero']} all-zero or non-finite removed" in summary[0].getMessage())
        # A layout change: the kept columns no longer fit, are dropped, and that is a warning.
        kept = len(acc._columns)
        assert kept > 0
        acc.start_window(sizes=[3])
        warned = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1 and f"{kept} column(s) of an earlier layout dropped" in warned[0].getMessage()
        assert acc.dropped["layout"] == kept
        acc.next(np.zeros(3), np.ones(3))  # the new layout works
    with pytest.raises(msm.CouplingError, match="coupled data of size 4, but the layout"):
        acc.next(np.zeros(4), np.ones(4))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("make, argument", [
    (lambda: msm.IQNILS(reuse=-1), "IQNILS(reuse="),
    (lambda: msm.IQNILS(reuse=2.5), "IQNILS(reuse="),
    (lambda: msm.IQNILS(reuse=2.0), "IQNILS(reuse="),
    (lambda: msm.IQNILS(reuse=True), "IQNILS(reuse="),
    (lambda: msm.IQNILS(reuse="8"), "IQNILS(reuse="),
    (lambda: msm.IQNILS(max_columns=0), "IQNILS(max_columns="),
    (lambda: msm.IQNILS(max_columns=10.5), "IQNILS(max_columns="),
    (lambda: msm.IQNILS(filter_limit=0.0), "IQNILS(filter_limit="),
    (lambda: msm.IQNILS(filter_limit=1.0), "IQNILS(filter_limit="),
    (lambda: msm.IQNILS(filter_limit=-1e-3), "IQNILS(filter_limit="),
    (lambda: msm.IQNILS(filter_limit=NAN), "IQNILS(filter_limit="),
    (lambda: msm.IQNILS(initial=INF), "IQNILS(initial="),
    (lambda: msm.IQNILS(initial=NAN), "IQNILS(initial="),
    (lambda: msm.IQNILS(initial=True), "IQNILS(initial="),
    (lambda: msm.IQNILS(initial=0.0), "IQNILS(initial="),
    (lambda: msm.IQNILS(preconditioner="jacobi"), "IQNILS(preconditioner="),
    (lambda: msm.IQNILS(preconditioner=3), "IQNILS(preconditioner="),
    (lambda: msm.IQNILS(preconditioner="constant"), "needs scaling="),
    (lambda: msm.IQNILS(scaling={"a.x_in": 2.0}), "IQNILS(scaling="),
    (lambda: msm.IQNILS(preconditioner="constant", scaling={"a.x_in": -1.0}), "scaling['a.x_in']="),
    (lambda: msm.IQNILS(preconditioner="constant", scaling={"a.x_in": NAN}), "scaling['a.x_in']="),
    (lambda: msm.IQNILS(preconditioner="constant", scaling="big"), "scaling="),
    (lambda: msm.IQNILS(freeze_after=-1), "freeze_after="),
    (lambda: msm.IQNILS(freeze_after=1.5), "freeze_after="),
    (lambda: msm.Aitken(initial=0.0), "Aitken(initial="),
    (lambda: msm.Aitken(initial=1.5), "Aitken(initial="),
    (lambda: msm.Aitken(initial=NAN), "Aitken(initial="),
    (lambda: msm.Aitken(initial=INF), "Aitken(initial="),
    (lambda: msm.Aitken(initial=False), "Aitken(initial="),
    (lambda: msm.Aitken(initial="0.5"), "Aitken(initial="),
    (lambda: msm.ConstantRelaxation(NAN), "ConstantRelaxation(omega="),
    (lambda: msm.ConstantRelaxation(True), "ConstantRelaxation(omega="),
    (lambda: msm.ConstantRelaxation(-0.5), "ConstantRelaxation(omega="),
])
def test_acceleration_arguments_are_checked(make, argument):
    with pytest.raises(msm.ConfigurationError, match=re.escape(argument)):
        make()


def test_acceleration_arguments_from_yaml_are_checked(tmp_path):
    from pathlib import Path

    from msmcore.config import load_config

    heat_yaml = Path(__file__).resolve().parents[1] / "examples" / "partitioned_heat" / "heat.yaml"
    text = heat_yaml.read_text()
    assert "reuse: 8}" in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("reuse: 8}", "reuse: -1}"))
    with pytest.raises(msm.ConfigurationError, match=re.escape("IQNILS(reuse=...) must be a whole number >= 0")):
        load_config(path)


def test_max_columns_bounds_the_columns_and_says_so(caplog):
    acc = msm.IQNILS(0.1, reuse=4, max_columns=2)
    with caplog.at_level(logging.INFO, logger="msmcore.acceleration"):
        res = loop().run(until=2.0, scheme=msm.Implicit(1.0, acceleration=acc, rel_tol=1e-12, max_iterations=100))
    # Two columns cannot span the 3-dimensional fixed point: still converges, removing the oldest.
    np.testing.assert_allclose(res["a"]["y_out"].values[-1], exact(2.0), rtol=1e-10)
    assert len(acc._columns) <= 2 and acc.dropped["max_columns"] > 0
    counts = [int(m.group(1)) for r in caplog.records
              if (m := re.search(r"(\d+) oldest beyond max_columns=2 removed", r.getMessage()))]
    assert sum(counts) == acc.dropped["max_columns"]


def test_preconditioner_from_yaml(tmp_path):
    from pathlib import Path

    from msmcore.config import load_config

    heat_yaml = Path(__file__).resolve().parents[1] / "examples" / "partitioned_heat" / "heat.yaml"
    path = tmp_path / "heat.yaml"
    path.write_text(heat_yaml.read_text().replace(
        "reuse: 8}", "reuse: 8, preconditioner: constant, scaling: {left.temperature_in: 5.0}}"))
    acc = load_config(path).scheme.acceleration
    assert isinstance(acc.preconditioner, ConstantPreconditioner)
    assert acc.preconditioner.scaling == {"left.temperature_in": 5.0}
    path.write_text(heat_yaml.read_text().replace("reuse: 8}", "reuse: 8, preconditioner: values}"))
    with pytest.raises(msm.ConfigurationError, match=r"heat.yaml:\d+: scheme.acceleration: IQNILS\(preconditioner="):
        load_config(path)


def reference_iqn_step(V: np.ndarray, W: np.ndarray, r: np.ndarray, x_tilde: np.ndarray, limit: float) -> np.ndarray:
    """IQN-ILS by the book: QR2 filter with modified Gram-Schmidt (Haelterman et al., 2016, Alg. 3)
    over the columns newest first, then alpha from numpy's least squares on the kept columns."""
    kept, Q = [], []
    for j in range(V.shape[1]):
        v = V[:, j].copy()
        for q in Q:
            v -= (q @ v) * q
        if np.linalg.norm(v) >= limit * np.linalg.norm(V[:, j]):
            kept.append(j)
            Q.append(v / np.linalg.norm(v))
    alpha = np.linalg.lstsq(V[:, kept], -r, rcond=None)[0]
    return x_tilde + W[:, kept] @ alpha


def test_iqn_ils_step_equals_the_filtered_least_squares_solution():
    rng = np.random.default_rng(7)
    n = 40
    A = rng.normal(size=(n, n)) / np.sqrt(n)
    b = rng.normal(size=n)
    acc = msm.IQNILS(0.3, reuse=0, filter_limit=0.05, preconditioner="none")
    acc.setup([n])
    acc.start_window()
    xs, xts = [], []
    x = np.zeros(n)
    for k in range(6):
        x_tilde = A @ x + b
        if k == 3:  # a nearly repeated step: its V column is almost parallel to the last one
            r1, r2 = xts[-2] - xs[-2], xts[-1] - xs[-1]
            x_tilde = x + r2 + 1.001 * (r2 - r1) + 1e-6 * rng.normal(size=n)
        xs.append(x.copy())
        xts.append(x_tilde)
        new = acc.next(x, x_tilde)
        if k >= 1:
            rs = [xt - xx for xt, xx in zip(xts, xs, strict=True)]
            V = np.column_stack([rs[i] - rs[i - 1] for i in range(k, 0, -1)])
            W = np.column_stack([xts[i] - xts[i - 1] for i in range(k, 0, -1)])
            np.testing.assert_allclose(new, reference_iqn_step(V, W, rs[-1], x_tilde, 0.05), rtol=1e-8, atol=1e-10)
        x = new
    assert acc.dropped["filtered"] >= 1  # the near-repeat was left out, as the reference does


def test_iqn_ils_solves_a_linear_map_in_at_most_n_plus_one_iterations():
    # On an affine H(x) = A x + b, IQN-ILS without filtering is equivalent to GMRES on
    # (A - I) x = -b (Haelterman et al., SIAM J. Sci. Comput. 38 (2016)): the fixed point
    # after at most n + 1 evaluations, even where plain iteration diverges (here rho(A) > 1).
    rng = np.random.default_rng(3)
    n = 8
    A = 1.5 * rng.normal(size=(n, n)) / np.sqrt(n)
    assert max(abs(np.linalg.eigvals(A))) > 1.0
    b = rng.normal(size=n)
    x_star = np.linalg.solve(np.eye(n) - A, b)
    acc = msm.IQNILS(0.1, reuse=0, filter_limit=1e-6, preconditioner="none")
    acc.setup([n])
    acc.start_window()
    x = np.zeros(n)
    for _ in range(n + 1):
        x = acc.next(x, A @ x + b)
    np.testing.assert_allclose(x, x_star, rtol=1e-8, atol=1e-8)
