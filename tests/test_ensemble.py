"""Micro ensembles (msmcore.ensemble): one instance per macro point, stateful or closure, batched."""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_parts import Field1D, Relax, Saturate, saturate_exact

import msmcore as msm
from msmcore.ensemble import REPORT_PORT, block_range
from msmcore.surrogate import REPORT_FIELDS


def stateful(n=6, **ensemble):
    c = msm.Coupling()
    c.add("macro", Field1D, n=n)
    c.add("micro", Relax, per_point="macro.u_out", r=2.0, dt=0.01, **ensemble)
    c.connect("macro.u_out", "micro.target_in")
    c.connect("micro.u_out", "macro.y_in")
    return c


def closure(n=6, batch=1, drift=0.0, **extra):
    c = msm.Coupling()
    c.add("macro", Field1D, n=n, drift=drift)
    options = {"mode": "closure", "horizon": 1.0}
    if batch > 1:
        options |= {"batch": batch, "batch_setting": "points"}
    c.add("micro", Saturate, per_point="macro.u_out", ensemble=options, **extra)
    c.connect("macro.u_out", "micro.a_in")
    c.connect("micro.y_out", "macro.y_in")
    return c


def test_stateful_members_follow_their_exact_euler_solution():
    # Exact for forward Euler on du/dt = -r (u - target), u(0) = 0: u_n = target (1 - (1 - r dt)^n);
    # 50 steps of 0.01 to t = 0.5 (5 windows of 0.1). Tolerance: round-off, 1e-13.
    res = stateful().run(until=0.5, scheme=msm.Serial(window=0.1, order=["micro", "macro"]), quiet=True)
    target = np.linspace(0.5, 2.0, 6)
    u = res["micro"]["u_out"].values[-1]
    np.testing.assert_allclose(u, target * (1 - (1 - 0.02) ** 50), rtol=0, atol=1e-13)
    # the ensemble's ports carry the macro's mesh
    np.testing.assert_array_equal(res["micro"]["x"].values, np.linspace(0, 1, 6))


def test_ensemble_equals_one_vectorised_micro_over_all_points():
    res = stateful(n=7).run(until=0.3, scheme=msm.Serial(window=0.1, order=["micro", "macro"]), quiet=True)
    c = msm.Coupling()
    c.add("macro", Field1D, n=7)
    c.add("micro", Relax, points=7, r=2.0, dt=0.01)
    c.connect("macro.u_out", "micro.target_in")
    c.connect("micro.u_out", "macro.y_in", mapping="identity")
    ref = c.run(until=0.3, scheme=msm.Serial(window=0.1, order=["micro", "macro"]), quiet=True)
    np.testing.assert_array_equal(res["micro"]["u_out"].values, ref["micro"]["u_out"].values)


def test_stateful_batches_equal_single_point_instances():
    one = stateful(n=7).run(until=0.3, scheme=msm.Serial(window=0.1, order=["micro", "macro"]), quiet=True)
    batched = stateful(n=7, ensemble={"batch": 3, "batch_setting": "points"})
    assert len(batched.components["micro"].probe.ports["u_out"].spec.shape) == 1
    res = batched.run(until=0.3, scheme=msm.Serial(window=0.1, order=["micro", "macro"]), quiet=True)
    assert len(batched.components["micro"].instances) == 3  # 3 + 3 + 1 points
    np.testing.assert_array_equal(res["micro"]["u_out"].values, one["micro"]["u_out"].values)


@pytest.mark.parametrize("batch", [1, 4])
def test_closure_evaluations_are_exact_and_batches_agree(batch):
    # Saturate from y = 0 for horizon 1.0 with dt 0.01: y = (a/b)(1 - (1 - b dt)^100), exact for Euler.
    Saturate.calls = 0
    c = closure(n=6, batch=batch)
    res = c.run(until=0.3, scheme=msm.MacroMicro("macro", "micro", horizon=0.1), quiet=True)
    a = np.linspace(0.5, 2.0, 6)
    np.testing.assert_allclose(res["micro"]["y_out"].values[-1], saturate_exact(a), rtol=0, atol=1e-14)
    report = res["micro"][REPORT_PORT].sel(report="micro_runs").values[:, 0]
    np.testing.assert_array_equal(report, [0, 6, 6, 6])  # every point every window, no surrogate
    assert Saturate.calls == 3 * (6 if batch == 1 else 2)  # 6 points in batches of 4: 2 evaluations
    assert list(res["micro"]["report"].values) == list(REPORT_FIELDS)


def test_runs_twice_the_same_and_checkpoints(tmp_path):
    c = stateful()
    scheme = msm.Serial(window=0.1, order=["micro", "macro"])
    full = c.run(until=0.6, scheme=scheme, quiet=True)
    again = c.run(until=0.6, scheme=scheme, quiet=True)
    np.testing.assert_array_equal(full["micro"]["u_out"].values, again["micro"]["u_out"].values)
    ckpt = msm.Checkpoints(every=0.3, keep=5, path=tmp_path / "ck")
    c.run(until=0.3, scheme=scheme, quiet=True, checkpoint=ckpt)
    resumed = c.run(until=0.6, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    np.testing.assert_array_equal(resumed["micro"]["u_out"].values, full["micro"]["u_out"].values)


def test_per_point_sample_count_and_yaml(tmp_path):
    (tmp_path / "parts.py").write_text("from ensemble_parts import Field1D, Saturate\n")
    (tmp_path / "e.yaml").write_text(
        "components:\n"
        "  macro: {component: {python: parts.py:Field1D}, n: 5}\n"
        "  micro:\n"
        "    component: {python: parts.py:Saturate}\n"
        "    per_point: macro.u_out\n"
        "    ensemble: {mode: closure, horizon: 1.0, batch: 2, batch_setting: points}\n"
        "    b: 3.0\n"
        "connections: [macro.u_out -> micro.a_in, micro.y_out -> macro.y_in]\n"
        "scheme: {type: macro-micro, macro: macro, micro: micro, horizon: 0.1}\n"
        "run: {until: 0.2}\n")
    from msmcore.config import load_config as load

    cfg = load(tmp_path / "e.yaml")
    res = cfg.coupling.run(until=0.2, scheme=cfg.scheme, quiet=True)
    np.testing.assert_allclose(res["micro"]["y_out"].values[-1], saturate_exact(np.linspace(0.5, 2.0, 5)),
                               atol=1e-14)
    c = msm.Coupling()
    ens = c.add("samples", Saturate, per_point=3, ensemble={"mode": "closure", "horizon": 1.0})
    assert ens.ports["a_in"].spec.shape == (3,)


def test_block_range_is_balanced():
    assert [block_range(10, 3, r) for r in range(3)] == [(0, 4), (4, 7), (7, 10)]
    assert block_range(1, 2, 1) == (1, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"per_point": "nomacro.u_out"}, "no component 'nomacro'"),
    ({"per_point": "macro.nope"}, "has no port 'nope'"),
    ({"per_point": "macro"}, "must look like"),
    ({"per_point": 0}, "number of samples"),
    ({"per_point": "macro.u_out", "ensemble": {"mode": "lazy"}}, "mode must be"),
    ({"per_point": "macro.u_out", "ensemble": {"mode": "closure"}}, "needs horizon"),
    ({"per_point": "macro.u_out", "ensemble": {"speed": 1}}, "no option"),
    ({"per_point": "macro.u_out", "ensemble": {"batch": 2}}, "needs batch_setting"),
    ({"per_point": "macro.u_out", "points": 3}, "micro port 'target_in' has 3 points"),
    ({"per_point": "macro.u_out", "surrogate": {"model": "x", "tolerance": 1}}, "stateless closure"),
])
def test_bad_ensembles_are_refused_at_add(kwargs, match):
    c = msm.Coupling()
    c.add("macro", Field1D, n=4)
    with pytest.raises(msm.ConfigurationError, match=match):
        c.add("micro", Relax, **kwargs)


def test_closure_needs_a_micro_that_declares_state():
    class Stateless(Saturate):
        state_attributes = None

    c = msm.Coupling()
    c.add("macro", Field1D, n=4)
    with pytest.raises(msm.ConfigurationError, match="declares no state"):
        c.add("micro", Stateless, per_point="macro.u_out", ensemble={"mode": "closure", "horizon": 1.0})
