"""M x N exchange under mpiexec: components on different rank sets, results equal to serial.

Run by `make test` under `mpiexec -n 2` and `-n 3` (and valid with 1 rank). The
expectations are exact: every operation is elementwise on small integers and halves.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from mxn_parts import Blocks, N, Ramp, expected, layouts

import msmcore as msm

SIZE = MPI.COMM_WORLD.Get_size()


@pytest.mark.parametrize("layout", list(layouts()))
@pytest.mark.parametrize("scheme", ["serial", "parallel"])
def test_layouts_match_serial(layout, scheme):
    ramp_ranks, block_ranks = layouts()[layout]
    c = msm.Coupling()
    c.add("ramp", Ramp, ranks=ramp_ranks)
    c.add("blocks", Blocks, ranks=block_ranks)
    c.connect("ramp.r_out", "blocks.u_in")
    sch = msm.Serial(window=0.5) if scheme == "serial" else msm.Parallel(window=0.5)
    res = c.run(until=2.0, scheme=sch)
    got = res["blocks"]["u_out"].values[1:]
    if scheme == "serial":
        want = expected(2.0, 0.5)
    else:  # Jacobi: blocks read the ramp of the previous window
        times = np.arange(1, 5) * 0.5
        want = np.array([2.0 * (np.arange(N) + t - 0.5) + t for t in times])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(res["ramp"]["r_out"].values[-1], np.arange(N) + 2.0)


@pytest.mark.parametrize("layout", list(layouts()))
def test_implicit_across_ranks(layout):
    ramp_ranks, block_ranks = layouts()[layout]
    c = msm.Coupling()
    c.add("ramp", Ramp, ranks=ramp_ranks)
    c.add("blocks", Blocks, ranks=block_ranks)
    c.connect("ramp.r_out", "blocks.u_in")
    c.connect("blocks.u_out", "ramp.feedback")
    res = c.run(until=1.0, scheme=msm.Implicit(0.5, acceleration=msm.NoAcceleration(), rel_tol=1e-12))
    # The ramp ignores its feedback input: without acceleration the second iteration
    # reproduces the first one's answer exactly, on every rank alike.
    assert res.info["iterations"] == [2, 2]
    np.testing.assert_array_equal(res["blocks"]["u_out"].values[1:], expected(1.0, 0.5))


def test_unknown_rank_is_a_clear_error():
    c = msm.Coupling()
    with pytest.raises(msm.ConfigurationError, match=f"has {SIZE} rank\\(s\\)"):
        c.add("ramp", Ramp, ranks=[SIZE])


class Pair(msm.Component):
    """Two values per point, (count, 10 * count); serial (rank 0 of its ranks holds it)."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("ab_out", N, components=2)]

    def step(self, dt):
        out = self.port_array("ab_out")
        if out.size:
            out[:, 0] += 1.0
            out[:, 1] += 10.0


@pytest.mark.parametrize("layout", list(layouts()))
def test_component_selection_across_ranks(layout):
    pair_ranks, block_ranks = layouts()[layout]
    c = msm.Coupling()
    c.add("pair", Pair, ranks=pair_ranks)
    c.add("blocks", Blocks, ranks=block_ranks)
    c.connect("pair.ab_out", "blocks.u_in", source_component=1)
    res = c.run(until=2.0, scheme=msm.Serial(window=1.0))
    # blocks: 2 * (10 t) + t at t = 1, 2
    np.testing.assert_array_equal(res["blocks"]["u_out"].values[1:], [[21.0] * N, [42.0] * N])


@pytest.mark.parametrize("layout", list(layouts()))
def test_mapping_with_component_selection_across_ranks(layout):
    from test_coupling import Line, Probe

    line_ranks, probe_ranks = layouts()[layout]
    c = msm.Coupling()
    c.add("line", Line, ranks=line_ranks)
    c.add("probe", Probe, ranks=probe_ranks)
    c.connect("line.f_out", "probe.s_in", mapping="linear", source_component=1)
    c.connect("line.f_out", "probe.v_in", mapping="linear", source_component=0, target_component=2)
    c.run(until=1.0, scheme=msm.Serial(window=1.0))
    probe = c.components["probe"]
    if MPI.COMM_WORLD.Get_rank() == (probe_ranks or [0])[0]:
        np.testing.assert_allclose(probe.port_array("s_in"), [-0.1, -0.6], rtol=1e-14)
        np.testing.assert_allclose(probe.port_array("v_in"), [[7.0, 7.0, 0.5]], rtol=1e-14)
