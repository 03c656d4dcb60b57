"""ml.gp and ml.ensemble: fit/predict with uncertainty, determinism, save/restore, in a coupling."""

from __future__ import annotations

import numpy as np
import pytest
from msm_ml.gp import GaussianProcess

import msmcore as msm
from msmcore.plugins import get_registry
from msmcore.state_codec import check_encodable


def data(n=12):
    X = np.linspace(0.0, 2.0, n)[:, None]
    return X, np.hstack([np.sin(2 * X), X**2])


FAST = {"ml.gp": {}, "ml.ensemble": {"members": 2, "width": 8, "epochs": 40}}


@pytest.mark.parametrize("key", ["ml.gp", pytest.param("ml.ensemble", marks=pytest.mark.slow)])
def test_registered_and_deterministic_with_restorable_state(key):
    factory = get_registry().surrogate(key)
    X, Y = data()
    a, b = factory(seed=1, **FAST[key]), factory(seed=1, **FAST[key])
    a.fit(X, Y)
    b.fit(X, Y)
    Xt = np.linspace(0.05, 1.95, 7)[:, None]
    ma, sa = a.predict(Xt)
    mb, sb = b.predict(Xt)
    assert ma.shape == sa.shape == (7, 2)
    np.testing.assert_array_equal(ma, mb)
    np.testing.assert_array_equal(sa, sb)
    state = a.save_state()
    check_encodable(state, "state")  # goes into checkpoints: arrays and numbers only
    c = factory(seed=99, **FAST[key])
    c.restore_state(state)
    mc, sc = c.predict(Xt)
    np.testing.assert_array_equal(mc, ma)
    np.testing.assert_array_equal(sc, sa)


def test_gp_interpolates_smooth_functions_and_is_unsure_far_away():
    # sin(2x) and x^2 on 12 points of [0, 2]: a GP with an RBF kernel interpolates them to
    # about 1e-3 (smooth functions, spacing 0.18); far outside the data its std grows to the
    # prior's scale (Rasmussen & Williams 2006, eq. 2.26). Tolerances stated per assert.
    X, Y = data()
    gp = GaussianProcess(seed=0)
    gp.fit(X, Y)
    Xt = np.linspace(0.1, 1.9, 9)[:, None]
    mean, std = gp.predict(Xt)
    exact = np.hstack([np.sin(2 * Xt), Xt**2])
    assert np.abs(mean - exact).max() < 1e-2
    assert (np.abs(mean - exact) <= 4 * std + 1e-4).all()  # the error is within a few std
    _, far = gp.predict(np.array([[6.0]]))
    assert (far > 100 * std.max()).all()


@pytest.mark.slow
def test_deep_ensemble_fits_and_disagrees_outside_the_data():
    X, Y = data(24)
    from msm_ml.deep_ensemble import DeepEnsemble  # torch loads here, not when the file is collected

    de = DeepEnsemble(seed=0, members=3, width=24, epochs=500)
    de.fit(X, Y)
    Xt = np.linspace(0.1, 1.9, 9)[:, None]
    mean, std = de.predict(Xt)
    exact = np.hstack([np.sin(2 * Xt), Xt**2])
    assert np.abs(mean - exact).max() < 0.1  # a small MLP fit, not an interpolant: 0.1 absolute
    _, far = de.predict(np.array([[5.0]]))
    assert far.max() > 5 * std.mean()  # members extrapolate differently


@pytest.mark.slow
def test_gp_surrogate_in_a_coupling_matches_all_micro():
    # The closure y = (a^2/(1+a^2))(1 - 0.97^100) per point (forward Euler of dy/dt = 3a^2/(1+a^2) - 3y,
    # 100 steps); with tolerance 1e-4 on the GP's std the macro-side values stay within 1e-3 of
    # the all-micro run (a GP's std is an estimate, not a bound: 10x the tolerance allowed).
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
    from ensemble_parts import Field1D, Saturate

    def build(surrogate):
        c = msm.Coupling()
        c.add("macro", Field1D, n=30, drift=0.5)
        c.add("micro", Saturate, per_point="macro.u_out", hill=2, ensemble={"mode": "closure", "horizon": 1.0},
              surrogate=surrogate)
        c.connect("macro.u_out", "micro.a_in")
        c.connect("micro.y_out", "macro.y_in")
        return c.run(until=0.6, scheme=msm.MacroMicro("macro", "micro", horizon=0.1), quiet=True)

    full = build(None)
    gated = build({"model": "ml.gp", "tolerance": 1e-4, "audit": 0.1})
    assert np.abs(gated["micro"]["y_out"].values - full["micro"]["y_out"].values).max() < 1e-3
    runs = gated["micro"]["ensemble_report"].sel(report="micro_runs").values.sum()
    assert runs < 0.5 * 30 * 6


@pytest.mark.slow
@pytest.mark.parametrize("key", ["ml.gp", "ml.ensemble"])
def test_checkpointed_surrogate_resumes_equal_to_the_uninterrupted_run(key, tmp_path):
    # The gate's training set and the model's state (GP: data and hyperparameters; deep
    # ensemble: every member's state_dict as NumPy arrays) go through an HDF5 snapshot.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
    from ensemble_parts import Field1D, Saturate

    c = msm.Coupling()
    c.add("macro", Field1D, n=10, drift=0.5)
    c.add("micro", Saturate, per_point="macro.u_out", hill=2, ensemble={"mode": "closure", "horizon": 1.0},
          surrogate={"model": key, "tolerance": 1e-3 if key == "ml.gp" else 5e-2, "audit": 0.2,
                     "model_options": FAST[key], "rounds": 1})
    c.connect("macro.u_out", "micro.a_in")
    c.connect("micro.y_out", "macro.y_in")
    scheme = msm.MacroMicro("macro", "micro", horizon=0.1)
    full = c.run(until=0.4, scheme=scheme, quiet=True)
    c.run(until=0.2, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(every=0.2, path=tmp_path / "ck"))
    resumed = c.run(until=0.4, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    for port in ("y_out", "ensemble_report"):
        np.testing.assert_array_equal(resumed["micro"][port].values, full["micro"][port].values)
