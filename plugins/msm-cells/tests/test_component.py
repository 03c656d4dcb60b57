"""cells.agents as an msmcore component: settings, agent ports, checkpoints, threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from msm_cells.agents import Cells

import msmcore as msm


def _cells(**kw):
    return msm.get_registry().create("cells.agents", name="cells", **kw)


@pytest.mark.parametrize("settings, match", [
    ({"dt_mechanics": 0.1, "dt_phenotype": 0.25}, "whole multiple"),
    ({"birth_rate": 0.2}, "ln 2"),
    ({"necrosis_threshold": 5.0}, "needs the substrate 'oxygen'"),
    ({"necrosis_threshold": 5.0, "necrosis_max": 6.0, "substrates": {"oxygen": {}}}, "below necrosis_threshold"),
    ({"dim": 2, "positions": [[0, 0, 0]]}, "coordinates but dim=2"),
    ({"cycle": "phased", "transitions": "deterministic", "phase_durations": [60, 3]}, "shorter than dt_phenotype"),
    ({"cycle": "phased", "phase_durations": [60, -3]}, "positive"),
    ({"cycle": "phased", "phase_durations": [60, 30], "phase_names": ["a"]}, "1 names for 2"),
    ({"substrates": {"oxygen": {"uptak": 1}}}, "unknown key"),
    ({"substrates": {"oxygen": {"uptake": -1}}}, ">= 0"),
    ({"cycle": "mitosis"}, "cycle"),
    ({"dim": 4}, "dim"),
    ({"network_species": ["a", "b"], "network_initial": [1.0]}, "give 2 numbers"),
])
def test_bad_settings_raise_configuration_error(settings, match):
    with pytest.raises(msm.ConfigurationError, match=match):
        _cells(**settings)


def test_window_not_a_whole_number_of_mechanics_steps_is_refused():
    c = msm.Coupling()
    c.add("cells", "cells.agents", dim=2, count=3, dt_mechanics=0.5, dt_phenotype=6.0)
    with pytest.raises(msm.MSMError, match="whole number of dt_mechanics"):
        c.run(until=6.0, scheme=msm.Serial(window=0.75), quiet=True)


def test_ports_follow_the_agent_set_through_divisions():
    c = msm.Coupling()
    cells = c.add("cells", "cells.agents", dim=2, count=4, birth_rate=1 / 100.0, apoptosis_rate=1 / 300.0,
                  dt_mechanics=0.5, substrates={"oxygen": {"uptake": 10.0, "units": "mmHg", "default": 38.0}})
    c.run(until=240.0, scheme=msm.Serial(window=6.0), quiet=True)
    s = cells.agent_set("cells")
    assert s.count > 8
    assert np.array_equal(s.ids, cells.population.ids)
    assert cells.port_array("positions_out").shape == (s.count, 2)
    np.testing.assert_array_equal(cells.port_array("positions_out"), cells.population.positions)
    r = cells.population.radius
    np.testing.assert_allclose(cells.port_array("volumes_out"), np.pi * r * r, rtol=1e-14)  # 2D: disc areas
    up = cells.port_array("uptake_oxygen_out")
    np.testing.assert_array_equal(up, np.where(cells.population.phase >= 0, 10.0, 0.0))


@pytest.mark.slow
def test_unlimited_oxygen_growth_in_a_coupling_matches_the_yule_mean():
    # Through the component (mechanics on): 10 seeds of 20 cells, b = 1/300 per min, 600 min. The mean
    # count lies within 4 standard errors of N0 e^{bt} (Galton-Watson moments: see test_population).
    b, T, n0, seeds = 1 / 300.0, 600.0, 20, 10
    counts = []
    for seed in range(seeds):
        c = msm.Coupling()
        cells = c.add("cells", "cells.agents", dim=2, count=n0, birth_rate=b, apoptosis_rate=0.0, seed=seed,
                      dt_mechanics=1.0)
        c.run(until=T, scheme=msm.Serial(window=60.0), quiet=True)
        counts.append(cells.agent_set("cells").count)
    dt = 6.0
    m, k = np.exp(b * dt), int(T / dt)
    p = m - 1
    var = n0 * p * (1 - p) * m ** (k - 1) * (m**k - 1) / (m - 1)
    z = (np.mean(counts) - n0 * np.exp(b * T)) / np.sqrt(var / seeds)
    assert abs(z) < 4, (counts, z)


def _run_and_collect(c, cells, until, **kw):
    c.run(until=until, scheme=msm.Serial(window=6.0), quiet=True, **kw)
    pop = cells.population
    return (pop.ids.copy(), pop.positions.copy(), pop.volume.copy(), pop.phase.copy(),
            cells.port_array("positions_out").copy())


def _spheroid(**kw):
    c = msm.Coupling()
    cells = c.add("cells", "cells.agents", dim=2, count=6, birth_rate=1 / 150.0, apoptosis_rate=1 / 400.0,
                  dt_mechanics=0.5, seed=3, **kw)
    return c, cells


def test_checkpoint_and_resume_are_bit_for_bit(tmp_path):
    c, cells = _spheroid()
    want = _run_and_collect(c, cells, 240.0)
    c2, cells2 = _spheroid()
    _run_and_collect(c2, cells2, 120.0, checkpoint=msm.Checkpoints(every=60.0, path=tmp_path / "ck"))
    c3, cells3 = _spheroid()
    got = _run_and_collect(c3, cells3, 240.0, resume=tmp_path / "ck")
    assert len(got[0]) > 6
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()


def test_save_restore_repeats_the_next_window():
    c, cells = _spheroid()
    c.run(until=60.0, scheme=msm.Serial(window=6.0), quiet=True)
    s = cells.agent_set("cells")
    snap = (s.state(), cells.save_state())
    cells.advance(120.0)
    first = (cells.population.ids.copy(), cells.population.positions.copy(), cells.port_array("phase_out").copy())
    s.set_state(snap[0])
    cells.restore_state(snap[1])
    cells.advance(120.0)
    again = (cells.population.ids, cells.population.positions, cells.port_array("phase_out"))
    for a, b in zip(first, again, strict=True):
        assert a.tobytes() == b.tobytes()


def test_rerun_starts_afresh():
    c, cells = _spheroid()
    a = _run_and_collect(c, cells, 120.0)
    b = _run_and_collect(c, cells, 120.0)
    for x, y in zip(a, b, strict=True):
        assert x.tobytes() == y.tobytes()


_CHILD = """
import hashlib, json, sys
import msmcore as msm
c = msm.Coupling()
cells = c.add("cells", "cells.agents", dim=3, count=20, birth_rate=1/150.0, apoptosis_rate=1/500.0, seed=9,
              dt_mechanics=0.5)
c.run(until=180.0, scheme=msm.Serial(window=6.0), quiet=True)
p = cells.population
h = hashlib.sha256(p.ids.tobytes() + p.positions.tobytes() + p.volume.tobytes() + p.phase.tobytes())
print(json.dumps({"n": p.count, "hash": h.hexdigest()}))
"""


@pytest.mark.slow
def test_same_seed_same_result_with_1_and_2_threads():
    # The same seed in fresh processes with 1 and 2 BLAS/OpenMP threads gives identical cells (ids, positions,
    # volumes, phases bit for bit): the random numbers are keyed by (seed, id, step), and the NumPy/SciPy
    # work runs in a fixed order.
    out = []
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(msm.__file__).parents[1]),
                                             str(Path(__file__).parents[1] / "src"), env.get("PYTHONPATH", "")])
        res = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300,
                             check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert out[0]["n"] > 20
    assert out[0] == out[1]


def test_modifiers_in_slow_the_cycle():
    # cycle_modifier_in = 0 arrests the cycle: no cell divides (a live model with b = 1/60 per min would
    # otherwise double the count every ~42 min).
    class Zero(msm.Component):
        dt = msm.Setting(float, default=6.0)
        state_attributes = ()

        def declare_ports(self):
            return [msm.Port.input("trigger_in", agents="a", units="1", required=False),
                    msm.Port.output("m_out", agents="a", units="1")]

        def step(self, dt):
            self.port_array("m_out")[...] = 0.0

    c = msm.Coupling()
    cells = c.add("cells", "cells.agents", dim=2, count=5, birth_rate=1 / 60.0, apoptosis_rate=0.0,
                  dt_mechanics=0.5)
    c.add("zero", Zero)
    c.connect("cells.phase_out", "zero.trigger_in")
    c.connect("zero.m_out", "cells.cycle_modifier_in")
    c.run(until=120.0, scheme=msm.Serial(window=6.0, order=["zero", "cells"]), quiet=True)
    assert cells.agent_set("cells").count == 5
    assert isinstance(cells, Cells)
