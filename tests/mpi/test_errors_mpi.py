"""Errors under mpiexec: what every rank raises alike is an ordinary exception on every rank.

Run by `make test` under `mpiexec -n 2` and `-n 3`. If any of these errors aborted the
job instead, the whole pytest run would die here.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from mxn_parts import Blocks, Ramp

import msmcore as msm

SIZE = MPI.COMM_WORLD.Get_size()
LAST = SIZE - 1


class Doubling(msm.Component):
    """x_out = 2 x_in + 1: the coupled pair has no fixed point a plain iteration reaches."""

    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("x_in", 1), msm.Port.output("x_out", 1)]

    def advance(self, t_end):
        self.port_array("x_out")[...] = 2.0 * self.port_array("x_in") + 1.0
        self.t = t_end


class Undeclared(Doubling):
    state_attributes = None


class Constant(msm.Component):
    state_attributes = ()
    units = msm.Setting(str, default="mol/L")

    def declare_ports(self):
        return [msm.Port.output("out", 4, units=self.units)]

    def initialize(self):
        self.port_array("out")[...] = 1.0

    def advance(self, t_end):
        self.t = t_end


class TwoValues(msm.Component):
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("c_in", 4, components=2, units="mol/m^3")]

    def initialize(self):
        self.port_array("c_in")[...] = 5.0

    def advance(self, t_end):
        self.t = t_end


def doubling_pair(cls_b=Doubling):
    c = msm.Coupling()
    c.add("a", Doubling, ranks=[0])
    c.add("b", cls_b, ranks=[LAST])
    c.connect("a.x_out", "b.x_in")
    c.connect("b.x_out", "a.x_in")
    return c


def test_convergence_error_is_raised_on_every_rank():
    c = doubling_pair()
    with pytest.raises(msm.ConvergenceError, match="did not converge in 3 iterations"):
        c.run(until=1.0, scheme=msm.Implicit(1.0, acceleration=msm.NoAcceleration(), max_iterations=3), quiet=True)
    # The run ended cleanly on every rank: the same coupling runs again (and fails the same way).
    with pytest.raises(msm.ConvergenceError):
        c.run(until=1.0, scheme=msm.Implicit(1.0, acceleration=msm.NoAcceleration(), max_iterations=3), quiet=True)


def test_validation_error_is_raised_on_every_rank():
    c = doubling_pair(Undeclared)
    with pytest.raises(msm.CouplingError, match="declare\\(s\\) no state"):
        c.run(until=1.0, scheme=msm.Implicit(1.0))


def test_units_factor_with_target_component_across_ranks():
    c = msm.Coupling()
    c.add("src", Constant, ranks=[0])
    c.add("dst", TwoValues, ranks=[LAST])
    c.connect("src.out", "dst.c_in", target_component=0)
    c.run(until=3.0, scheme=msm.Serial(window=1.0), quiet=True)
    if MPI.COMM_WORLD.Get_rank() == LAST:
        np.testing.assert_array_equal(c.components["dst"].port_array("c_in"), [[1000.0, 5.0]] * 4)


def test_the_same_coupling_runs_twice_identically():
    c = msm.Coupling()
    c.add("ramp", Ramp, ranks=[0])
    c.add("blocks", Blocks)
    c.connect("ramp.r_out", "blocks.u_in")
    first = c.run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True)
    second = c.run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True)
    assert first["blocks"].equals(second["blocks"])
    np.testing.assert_array_equal(second["blocks"]["u_out"].values[-1], 2.0 * (np.arange(10) + 2.0) + 2.0)
