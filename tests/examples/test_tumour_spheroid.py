"""The tumour spheroid (examples/tumour_spheroid), small 2D version: the coupling's pieces checked exactly.

* Deposit (cells -> oxygen grid, quantity="intensive"): the total sink is conserved,
  sum_j lambda_j h^2 = sum_i U_i A_i over live cells (A_i = pi r_i^2, the 2D "volume"), to round-off
  (BioFVM's uptake total, Ghaffarizadeh, Friedman & Macklin, Bioinformatics 32, 1256 (2016)).
* Per-cell networks follow the cells: one network per cell, ids aligned, and the cycle modifier each
  cell received is its own network's M, as in the state it received (identity by agent id, exact).
* Each network's M obeys its explicit-Euler recursion M' = M + dt k (f(O2) - M), f = O2^2/(O2^2 + K^2),
  with the O2 the cell passed to it (checked on one window, to 1e-12).
* The voxel sink (BioFVM's centre-voxel rule) conserves the same total.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import msmcore as msm

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tumour_spheroid" / "spheroid.py"
spec = importlib.util.spec_from_file_location("spheroid_example", EXAMPLE)
sph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sph)


@pytest.mark.slow
@pytest.mark.parametrize("sink", ["deposit", "voxel"])
def test_small_2d_spheroid_couples_consistently(sink):
    c, comps = sph.build(dim=2, count=7, half_width=200.0, h=20.0, sink=sink, birth_rate=1 / 120.0)
    cells, oxygen, net = comps["cells"], comps["oxygen"], comps["net"]
    totals = []
    plain = oxygen.receive

    def receive(port):  # at each delivery of the sink: its total against the cells' outputs it came from
        plain(port)
        if port == "sink_in":
            up = np.asarray(cells.port_array("uptake_oxygen_out"))
            area = np.asarray(cells.port_array("volumes_out"))  # 2D: pi r^2
            if sink == "voxel" and oxygen.t == 0.0:
                return  # the voxel sink computes at its first step: the start's delivery is zero
            totals.append((float(np.sum(oxygen.port_array("sink_in"))) * 20.0**2, float(np.sum(up * area))))

    oxygen.receive = receive
    order = ["oxygen", "cells", "net"] + (["sink"] if sink == "voxel" else []) + ["census"]
    c.run(until=180.0, scheme=msm.Serial(window=6.0, order=order), quiet=True)
    pop = cells.population
    assert pop.count > 7  # it grew
    # deposit / voxel sink: total uptake conserved, sum_j lambda_j h^2 = sum_i U_i pi r_i^2, at every exchange
    assert len(totals) >= 25
    for got, want in totals:
        assert got == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(np.asarray(cells.port_array("volumes_out")), np.pi * pop.radius**2, rtol=1e-14)
    # oxygen drawn down by the cells, never above the held 38 mmHg
    field = np.asarray(oxygen.port_array("state_out"))
    assert field.max() <= 38.0 + 1e-9 and field.min() < 38.0 - 0.5
    # one network per cell, following the same ids; each cell's cycle modifier is its own network's M
    # (delivered with the network's whole state into network_in by the same exchange)
    assert np.array_equal(net.agent_set("cells").ids, pop.ids)
    m = np.asarray(cells.port_array("network_in")).reshape(-1, 2)[:, 1]
    np.testing.assert_array_equal(np.asarray(cells.port_array("cycle_modifier_in")), m)
    assert np.all((m > 0) & (m <= 1.0 + 1e-12))


def test_network_is_the_euler_recursion_of_the_hypoxia_model():
    # One window of 6 min (one Euler step, k = 0.01, K = 8): M' = M + 6 k (O2^2/(O2^2 + K^2) - M) per cell,
    # with the O2 the cell relayed; the network's own M passes the relay unchanged.
    c, comps = sph.build(dim=2, count=5, half_width=200.0, h=20.0)
    c.run(until=6.0, scheme=msm.Serial(window=6.0, order=["oxygen", "cells", "net", "census"]), quiet=True)
    relayed = np.asarray(comps["net"].port_array("state_in")).reshape(-1, 2)
    state = np.asarray(comps["net"].port_array("state_out")).reshape(-1, 2)
    o2 = relayed[:, 0]
    m0 = 1.0  # the model's initial M
    want = m0 + 6.0 * 0.01 * (o2**2 / (o2**2 + 64.0) - m0)
    np.testing.assert_allclose(state[:, 1], want, rtol=1e-12)
    assert np.all(o2 < 38.0) and np.all(o2 > 5.0)
