"""preCICE's partitioned heat conduction (examples/partitioned_heat) against the exact solution.

u = 1 + x² + 3y² + 1.2t is represented exactly by implicit Euler with second-order
differences (ARCHITECTURE.md; preCICE's tutorial asserts error < 1e-8), so the coupled
error is set by the coupling tolerance (rel 1e-12 here): every window must be < 1e-8.
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
