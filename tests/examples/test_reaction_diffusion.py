"""MUSCLE3's reaction-diffusion example, in Python and in YAML, against the numpy reference.

Reference: examples/reaction_diffusion/numpy_reference.py, a plain-numpy
implementation of the same scheme: MUSCLE3's reaction-diffusion example
(MUSCLE3 documentation, "Tutorial with Python", reaction_diffusion.py: 100 cells,
dx = 0.01, D = 0.0405, k = -4.05e4, U = 2.0 at cells 25, 50, 75). Tolerance 1e-12 relative in every
cell at every macro step:
the two compute the same floating-point operations up to the order of the
stencil sums, so only round-off (~1e-15 per step) separates them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from example_loader import load_example

import msmcore as msm

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reaction_diffusion"



def load(name: str):
    return load_example("reaction_diffusion", name)


@pytest.fixture(scope="module")
def reference():
    times, history = load("numpy_reference").reaction_diffusion_reference()
    assert history.shape == (51, 100)
    return times, history


def relative(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(ours - ref) / np.abs(ref)))


def test_python_coupling_matches_numpy_reference(reference):
    times, history = reference
    coupling, scheme = load("rd").build()
    res = coupling.run(until=1.234568e-4, scheme=scheme, quiet=True)
    u = res["macro"]["state_out"]
    assert u.shape == (51, 100)
    np.testing.assert_allclose(res["macro"]["time"], times, rtol=1e-12)
    assert relative(u.values, history) < 1e-12
    # The micro model decayed the field: the total falls from 6 to about 0.04.
    assert history[-1].sum() < 0.05 and u.values[0].sum() == pytest.approx(6.0)
    assert res.timings["micro"]["advance_calls"] == 50 and res.timings["macro"]["advance_calls"] == 50


def test_the_same_coupling_runs_twice_matching_the_reference_both_times(reference):
    # A Coupling may run again: fluid.diffusion and kinetics.network are finalized
    # after the first run and initialized afresh for the second (this crashed before).
    _, history = reference
    coupling, scheme = load("rd").build()
    for run in range(2):
        res = coupling.run(until=1.234568e-4, scheme=scheme, quiet=True)
        assert relative(res["macro"]["state_out"].values, history) < 1e-12, f"run {run}"


def test_yaml_coupling_matches_numpy_reference(reference, tmp_path):
    _, history = reference
    from msmcore.config import load_config

    cfg = load_config(EXAMPLE / "rd.yaml")
    res = cfg.run(quiet=True)
    assert relative(res["macro"]["state_out"].values, history) < 1e-12


def test_msm_run_cli_writes_netcdf_from_the_example_folder(reference, tmp_path):
    _, history = reference
    out = tmp_path / "rd.nc"
    proc = subprocess.run([sys.executable, "-m", "msmcore", "run", "rd.yaml", "--out", str(out), "--quiet"],
                          cwd=EXAMPLE, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    back = msm.Result.from_netcdf(out)
    assert relative(back["macro"]["state_out"].values, history) < 1e-12
    assert back["macro"]["state_out"].attrs["units"] == "1"


class Doubler(msm.Component):
    """A script component (no package): doubles what it receives, every window."""

    size = msm.Setting(int, default=100)
    state_attributes = ()  # u_out (and t) are the whole state

    def declare_ports(self):
        return [msm.Port.input("u_in", self.size), msm.Port.output("u_out", self.size)]

    def advance(self, t_end):
        np.multiply(self.port_array("u_in"), 2.0, out=self.port_array("u_out"))
        self.t = t_end


def test_script_component_couples_with_plugin_component():
    # fluid.diffusion (a plugin) feeds a component defined in this file; the exact
    # relation out = 2 * in holds at every sample.
    c = msm.Coupling()
    c.add("fluid", "fluid.diffusion", shape=(100,), spacing=0.01, D=0.0405, dt=2.469136e-6,
          initial=1.0, initial_points={10: 3.0})
    c.add("double", Doubler)
    c.connect("fluid.state_out", "double.u_in")
    res = c.run(until=10 * 2.469136e-6, scheme=msm.Serial(window=2.469136e-6))
    fluid = res["fluid"]["state_out"].values
    doubled = res["double"]["u_out"].values
    np.testing.assert_array_equal(doubled[1:], 2.0 * fluid[1:])
    assert fluid[-1].sum() == pytest.approx(fluid[0].sum(), rel=1e-13)  # Neumann conserves mass
