"""preCICE's partitioned heat conduction (examples/partitioned_heat) against the exact solution.

u = 1 + x² + 3y² + 1.2t (preCICE tutorials, "Partitioned heat conduction": a quadratic
in space, linear in time, with f = 1.2 - 2 - 2·3 on [0, 2] × [0, 1] split at x = 1) is
represented exactly by implicit Euler with second-order differences, so the coupled error is set by
the coupling tolerance (rel 1e-12 here); preCICE's tutorial asserts error < 1e-8, and so
must every window here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from msmcore.config import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partitioned_heat"
spec = importlib.util.spec_from_file_location("heat_example", EXAMPLE / "heat.py")
heat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heat)


@pytest.fixture(scope="module")
def results():
    return {name: heat.run(acc) for name, acc in heat.accelerations().items()}


@pytest.mark.parametrize("name", ["constant 0.5", "Aitken", "IQN-ILS"])
def test_every_window_is_exact_to_the_coupling_tolerance(results, name):
    errors = heat.window_errors(results[name])
    assert len(errors) == 10
    assert errors.max() < 1e-8, errors


def test_iqn_ils_needs_fewer_iterations_than_aitken_than_constant(results):
    total = {name: sum(res.info["iterations"]) for name, res in results.items()}
    assert total["IQN-ILS"] < total["Aitken"] < total["constant 0.5"], total


def test_yaml_form_gives_the_same_result(results):
    res = load_config(EXAMPLE / "heat.yaml").run(quiet=True)
    assert heat.window_errors(res).max() < 1e-8
    assert res.info["iterations"] == results["IQN-ILS"].info["iterations"]


def test_non_matching_interface_meshes_converge_with_mapping_error():
    # Left interface 11 nodes (h = 0.1), right 17 (H = 1/16). The flux, -2 everywhere, is
    # reproduced by every consistent mapping; the temperature's y-part, 3y², is not:
    # linear interpolation from spacing H errs by at most f'' H² / 8 = 6 / (8 * 256) = 2.9e-3
    # on the interface, which bounds the coupled error. RBF with a linear polynomial is
    # closer to the parabola; nearest is only first order.
    errors = {}
    for kind in ("nearest", "linear", "rbf"):
        res = heat.run(heat.accelerations()["IQN-ILS"], right_ny=17, mapping=kind)
        left = res["left"]["temperature_out"]
        y = left["y"].values
        exact_iface = heat.exact(left["x"].values[-1:], y, 1.0)[0]
        iface_error = abs(left[-1, -1, :].values - exact_iface).max()
        errors[kind] = heat.window_errors(res).max()
        assert max(res.info["iterations"]) < 20, (kind, res.info["iterations"])
        if kind == "linear":
            assert iface_error <= 6 / (8 * 16**2)
    assert errors["rbf"] < errors["linear"] < errors["nearest"] < 1e-2, errors
