"""examples/script_component: a component in a user's script keeps the component contract."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "script_component" / "decay.py"
spec = importlib.util.spec_from_file_location("script_component_example", EXAMPLE)
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)


def test_decay_declares_its_state_and_a_restored_window_repeats():
    Decay = example.Decay
    assert Decay.declares_state() and Decay.state_attributes == ()
    c = Decay(dt=0.01)
    c.initialize()
    c.advance(0.2)
    snapshot = c.save_state()
    c.advance(0.5)
    reference = c.port_array("u_out").copy()
    c.advance(0.9)
    c.restore_state(snapshot)
    c.advance(0.5)
    np.testing.assert_array_equal(c.port_array("u_out"), reference)
    # forward Euler's global error at t = 0.5 is below k^2 t exp(-k t) dt / 2 (its leading term), with margin
    assert abs(reference[0] - math.exp(-2.0 * 0.5)) < 1.1 * 4.0 * 0.5 * math.exp(-1.0) * 0.01 / 2
