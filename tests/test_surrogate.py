"""The surrogate gate (msmcore.surrogate) in front of closure ensembles: error control, region, audit, restart."""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_parts import Field1D, Interp, Saturate, saturate_exact

import msmcore as msm
from msmcore.ensemble import REPORT_PORT
from msmcore.surrogate import SurrogateGate, farthest_points, make_gate

HILL = 2


def coupling(n=40, drift=0.5, surrogate=None, lo=0.5, hi=2.0):
    c = msm.Coupling()
    c.add("macro", Field1D, n=n, drift=drift, lo=lo, hi=hi)
    c.add("micro", Saturate, per_point="macro.u_out", hill=HILL,
          ensemble={"mode": "closure", "horizon": 1.0}, surrogate=surrogate)
    c.connect("macro.u_out", "micro.a_in")
    c.connect("micro.y_out", "macro.y_in")
    return c


def run(c, until=0.8, **kw):
    return c.run(until=until, scheme=msm.MacroMicro("macro", "micro", horizon=0.1), quiet=True, **kw)


def report(res, field):
    return res["micro"][REPORT_PORT].sel(report=field).values[:, 0]


@pytest.mark.parametrize("tolerance", [1e-3, 1e-4])
def test_surrogate_matches_all_micro_within_the_tolerance(tolerance):
    # The Interp model's std, k (x - a)(b - x) with k = 0.5 >= max|f''|/2 of this closure
    # (f = (a^2/(1+a^2))(1 - 0.97^100), |f''| <= 2 on a >= 0), bounds the linear-interpolation
    # error (Burden & Faires, Thm 3.3), so every predicted point is within `tolerance` of the
    # micro result, and micro results are exact: the bound is the tolerance itself.
    full = run(coupling())
    gated = run(coupling(surrogate={"model": Interp, "tolerance": tolerance}))
    err = np.abs(gated["micro"]["y_out"].values - full["micro"]["y_out"].values).max()
    assert err <= tolerance
    runs, all_runs = report(gated, "micro_runs").sum(), report(full, "micro_runs").sum()
    assert all_runs == 40 * 8
    assert runs < 0.5 * all_runs
    assert (report(gated, "max_std")[1:] <= tolerance).all()
    np.testing.assert_array_equal(report(gated, "micro_runs") + report(gated, "predictions"), [0] + [40] * 8)


def test_tighter_tolerance_costs_more_micro_runs_and_gives_smaller_error():
    full = run(coupling())["micro"]["y_out"].values
    runs, errors = [], []
    for tol in (1e-2, 1e-3, 1e-4):
        res = run(coupling(surrogate={"model": Interp, "tolerance": tol}))
        runs.append(report(res, "micro_runs").sum())
        errors.append(np.abs(res["micro"]["y_out"].values - full).max())
    assert runs[0] < runs[1] < runs[2]
    assert errors[2] < errors[0]


def test_an_input_outside_the_training_region_runs_the_micro_model():
    gate = SurrogateGate(Interp(k=1e-12), tolerance=1.0, initial=4)  # a tiny std: only the region test can trigger
    asked = []

    def micro(rows):
        asked.append(X[rows, 0].copy())
        return saturate_exact(X[rows], hill=HILL)

    X = np.linspace(0.5, 2.0, 20)[:, None]
    gate.step(X, micro)
    assert len(asked) == 1 and len(asked[0]) == 4  # the start-up design only
    X = np.vstack([np.linspace(0.6, 1.9, 20)[:, None], [[2.5]]])  # one point beyond the seen [0.5, 2.0]
    asked.clear()
    Y = gate.step(X, micro)
    assert len(asked) == 1 and list(asked[0]) == [2.5]
    assert Y[-1, 0] == saturate_exact(2.5, hill=HILL)  # the micro result is used ...
    assert 2.5 in gate.X[:, 0]  # ... and added to the training set
    assert gate.report[-1]["micro_runs"] == 1 and gate.report[-1]["predictions"] == 20


def test_margin_widens_the_region():
    gate = SurrogateGate(Interp(), tolerance=1.0, margin=0.5)
    gate._add(np.array([[1.0], [2.0]]), np.zeros((2, 1)))
    assert list(gate.out_of_region(np.array([[0.6], [2.4], [2.6], [0.4]]))) == [False, False, True, True]


def test_audit_error_matches_a_direct_comparison():
    res = None
    c = coupling(surrogate={"model": Interp, "tolerance": 1e-3, "audit": 0.3, "seed": 7})
    res = run(c)
    ens = c.components["micro"]
    audited, guess, micro = ens.gate.last_audit
    assert len(audited) > 0
    x = res["macro"]["u_out"].values[-2][audited]  # the inputs of the last window
    direct = saturate_exact(x, hill=HILL)  # the micro model's value, computed independently
    np.testing.assert_allclose(micro[:, 0], direct, rtol=0, atol=1e-15)
    assert report(res, "audit_error")[-1] == pytest.approx(np.abs(direct - guess[:, 0]).max(), rel=1e-12)
    assert (report(res, "audited")[1:] > 0).all()
    assert (report(res, "audit_error") <= 1e-3).all()  # within the tolerance, as the bound promises


def test_same_seed_same_audit_and_run_again_identical():
    spec = {"model": Interp, "tolerance": 1e-3, "audit": 0.2, "seed": 3}
    a, b = run(coupling(surrogate=spec)), run(coupling(surrogate=spec))
    np.testing.assert_array_equal(a["micro"]["y_out"].values, b["micro"]["y_out"].values)
    np.testing.assert_array_equal(a["micro"][REPORT_PORT].values, b["micro"][REPORT_PORT].values)


def test_resume_with_a_surrogate_equals_the_uninterrupted_run(tmp_path):
    c = coupling(surrogate={"model": Interp, "tolerance": 1e-3, "audit": 0.2})
    full = run(c)
    run(c, until=0.4, checkpoint=msm.Checkpoints(every=0.4, path=tmp_path / "ck"))
    resumed = run(c, resume=tmp_path / "ck")
    np.testing.assert_array_equal(resumed["micro"]["y_out"].values, full["micro"]["y_out"].values)
    np.testing.assert_array_equal(resumed["micro"][REPORT_PORT].values, full["micro"][REPORT_PORT].values)
    assert len(c.components["micro"].gate.report) == 8


def test_farthest_points_spread():
    X = np.linspace(0, 1, 11)[:, None]
    picked = farthest_points(X, 3)
    assert sorted(X[picked, 0]) == [0.0, 0.5, 1.0]
    assert len(farthest_points(X, 50)) == 11


@pytest.mark.parametrize("spec, match", [
    ({"model": Interp}, "at least 'model' and 'tolerance'"),
    ({"model": Interp, "tolerance": 0.0}, "tolerance must be positive"),
    ({"model": Interp, "tolerance": 1e-3, "audit": 1.5}, "audit must be a fraction"),
    ({"model": Interp, "tolerance": 1e-3, "speed": 2}, "no option"),
    ({"model": Interp, "tolerance": 1e-3, "rounds": -1}, "rounds must be"),
    ({"model": object(), "tolerance": 1e-3}, "has no fit"),
    ({"model": "ml.nothing", "tolerance": 1e-3}, "no surrogate model 'ml.nothing'"),
])
def test_bad_surrogates_are_refused(spec, match):
    c = msm.Coupling()
    c.add("macro", Field1D, n=4)
    with pytest.raises(msm.ConfigurationError, match=match):
        c.add("micro", Saturate, per_point="macro.u_out", ensemble={"mode": "closure", "horizon": 1.0},
              surrogate=spec)


def test_tolerance_per_output_must_match_the_outputs():
    gate = make_gate({"model": Interp, "tolerance": [1e-3, 1e-3]}, "micro", lambda k: Interp)
    X = np.linspace(0.5, 2.0, 12)[:, None]
    with pytest.raises(msm.CouplingError, match="tolerance has 2 value"):
        gate.step(X, lambda rows: saturate_exact(X[rows], hill=HILL))


def test_models_registered_through_the_hook_are_found_by_key(make_registry):
    from msmcore import hookimpl

    class FakeML:
        @staticmethod
        @hookimpl
        def msm_register_surrogates(register):
            register("test.interp", Interp)
            register("test.lazy", "ensemble_parts:Interp")

    registry = make_registry()
    registry.add_plugin(FakeML(), name="fake-ml")
    assert registry.surrogate_keys() == ["test.interp", "test.lazy"]
    assert registry.surrogate("test.interp") is Interp
    assert registry.surrogate("test.lazy") is Interp  # imported on first use
    with pytest.raises(msm.ConfigurationError, match="registered: test.interp, test.lazy"):
        registry.surrogate("test.nope")
    c = msm.Coupling(registry=registry)
    c.add("macro", Field1D, n=6)
    c.add("micro", Saturate, per_point="macro.u_out", ensemble={"mode": "closure", "horizon": 1.0},
          surrogate={"model": "test.interp", "tolerance": 1e-3})
    c.connect("macro.u_out", "micro.a_in")
    c.connect("micro.y_out", "macro.y_in")
    res = run(c, until=0.2)
    assert report(res, "micro_runs")[1] == 6  # the start-up design: all 6 distinct points
