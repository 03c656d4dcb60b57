"""Agent sets under mpiexec: a set and everything connected to it live on one rank; elsewhere refused.

Run under ``mpiexec -n 2`` (and 3): the refusals are raised alike on every rank (an ordinary
exception, not an abort), and a coupling whose agent part sits on rank 0 runs next to a
component on the last rank.
"""

from __future__ import annotations

import numpy as np
import pytest
from agent_fakes import Colony, Follower
from mpi4py import MPI

import msmcore as msm

WORLD = MPI.COMM_WORLD
SIZE, RANK = WORLD.Get_size(), WORLD.Get_rank()
LAST = SIZE - 1

pytestmark = pytest.mark.skipif(SIZE < 2, reason="needs mpiexec -n 2 or more")


class Clock(msm.Component):
    """A scalar counter on its own rank, connected to nothing agent-like."""

    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("n_out", 1), msm.Port.input("n_in", 1, required=False)]

    def step(self, dt: float) -> None:
        self.port_array("n_out")[...] += 1.0


def test_an_agent_set_on_more_than_one_rank_is_refused() -> None:
    c = msm.Coupling(WORLD)
    with pytest.raises(msm.ConfigurationError, match=r"component 'col' has agent sets \['cells'\].*ranks=0"):
        c.add("col", Colony)  # by default on every rank
    with pytest.raises(msm.ConfigurationError, match="component 'f' has agent sets \\[\\] / agent ports"):
        c.add("f", Follower)


def test_agent_connections_across_ranks_are_refused() -> None:
    c = msm.Coupling(WORLD)
    c.add("col", Colony, ranks=0)
    c.add("f", Follower, ranks=LAST)
    with pytest.raises(msm.CouplingError, match="one and the same rank"):
        c.connect("col.value_out", "f.value_in")
    c.add("grid", "fluid.diffusion", shape=(8, 8), spacing=1 / 8, D=1.0, dt=1.0, method="implicit")
    with pytest.raises(msm.CouplingError, match="one and the same rank"):
        c.connect("col.value_out", "grid.state_in", mapping="deposit", positions="col.positions_out", radius=0.1)


def test_an_agent_coupling_on_rank_0_runs_beside_other_ranks() -> None:
    c = msm.Coupling(WORLD)
    col = c.add("col", Colony, ranks=0)
    f = c.add("f", Follower, ranks=0)
    clock = c.add("clock", Clock, ranks=LAST)
    c.add("clock2", Clock, ranks=0)
    c.connect("col.value_out", "f.value_in")
    c.connect("f.echo_out", "col.value_in")
    c.connect("clock.n_out", "clock2.n_in")  # a collective transfer between ranks, next to the agents
    res = c.run(until=5.0, scheme=msm.Serial(order=["col", "f", "clock", "clock2"]), quiet=True)
    if RANK == 0:
        cells = col.agent_set("cells")
        assert cells.count > 4
        np.testing.assert_array_equal(f.port_array("value_in"), cells.ids + 0.5)
    if RANK == LAST:
        assert clock.port_array("n_out")[0] == 5.0
    assert res["clock"]["n_out"].values[-1] == 5.0  # gathered on every rank
