"""Lifetimes: a coupling runs any number of times, identically, and leaks nothing.

Each run initialises every component afresh (``finalize`` then ``initialize``), and
every PETSc object and communicator the run made is destroyed when it ends.
"""

from __future__ import annotations

import gc
import resource

import numpy as np
import pytest
from coupling_parts import Counter, Echo
from petsc4py import PETSc

import msmcore as msm


def live_petsc_objects() -> int:
    """PETSc objects still alive behind petsc4py wrappers (a non-null handle)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PETSc.Object) and o.handle)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Line(msm.Component):
    """A two-value field on x = 0, 0.25, ..., 1: (x + t, -x)."""

    state_attributes = ()
    dt = msm.Setting(float, default=0.5)

    def declare_ports(self):
        return [msm.Port.output("f_out", 5, components=2, coords={"x": np.linspace(0.0, 1.0, 5)})]

    def initialize(self):
        x = np.linspace(0.0, 1.0, 5)
        self.port_array("f_out")[...] = np.column_stack([x, -x])

    def step(self, dt):
        self.port_array("f_out")[:, 0] += dt


class Probe(msm.Component):
    """Reads a field at x = 0.1, 0.6, and a value per point of Counter's mesh."""

    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("s_in", 2, coords={"x": np.array([0.1, 0.6])}),
                msm.Port.input("c_in", 3, components=2, units="mol/m^3", required=False)]

    def advance(self, t_end):
        self.t = t_end


def build() -> msm.Coupling:
    """A coupling with every kind of transfer: scatter, units scaling, mapping, component selection."""
    c = msm.Coupling()
    c.add("line", Line)
    c.add("count", Counter, units="mol/L")
    c.add("echo", Echo, units="mol/m^3")
    c.add("probe", Probe)
    c.connect("line.f_out", "probe.s_in", mapping="linear", source_component=0)
    c.connect("count.count", "echo.value")
    c.connect("echo.last", "probe.c_in", target_component=1, mapping="identity")
    return c


def test_one_coupling_runs_again_and_again_identically():
    c = build()
    first = c.run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True)
    for _ in range(3):
        again = c.run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True)
        for name in first:
            assert first[name].equals(again[name]), name
    # x + t linearly interpolated at x = 0.1 and 0.6, at t = 2: exact.
    np.testing.assert_allclose(c.components["probe"].port_array("s_in"), [2.1, 2.6], rtol=1e-14)
    # Counter counts 4 windows; 4 mol/L reach echo as 4000 mol/m^3, then component 1 of probe.c_in.
    np.testing.assert_array_equal(c.components["probe"].port_array("c_in"), [[0.0, 4000.0]] * 3)


@pytest.mark.slow
def test_two_hundred_runs_leak_no_petsc_objects_and_no_memory():
    c = build()
    for _ in range(5):  # warm-up: caches, lazy imports, first allocations
        c.run(until=1.0, scheme=msm.Serial(window=0.5), quiet=True)
    objects0, rss0 = live_petsc_objects(), peak_rss_mb()
    for _ in range(200):
        c.run(until=1.0, scheme=msm.Serial(window=0.5), quiet=True)
    assert live_petsc_objects() == objects0
    # Each run builds Vecs, Scatters, a Mat and Datasets; 200 leaking runs would add
    # tens of MB. The bound leaves room for the allocator's noise.
    assert peak_rss_mb() - rss0 < 20.0


@pytest.mark.slow
def test_two_hundred_runs_of_plugin_components_leak_nothing():
    """The same with the shipped PETSc users: a DMDA diffusion field and a TS reaction network."""
    c = msm.Coupling()
    c.add("macro", "fluid.diffusion", shape=(12,), spacing=0.1, D=0.01, dt=0.05, method="implicit",
          initial=1.0, initial_points={6: 2.0})
    c.add("micro", "kinetics.network", shape=(12,), model="J: U -> ; k*U; k = 0.5", method="bdf")
    c.connect("macro.state_out", "micro.state_in")
    c.connect("micro.state_out", "macro.state_in")
    scheme = msm.MacroMicro(macro="macro", micro="micro", horizon=0.05)
    first = c.run(until=0.25, scheme=scheme, quiet=True)
    for _ in range(4):
        c.run(until=0.25, scheme=scheme, quiet=True)
    objects0, rss0 = live_petsc_objects(), peak_rss_mb()
    for _ in range(200):
        last = c.run(until=0.25, scheme=scheme, quiet=True)
    assert live_petsc_objects() == objects0
    assert peak_rss_mb() - rss0 < 20.0
    assert first["macro"].equals(last["macro"]) and first["micro"].equals(last["micro"])
