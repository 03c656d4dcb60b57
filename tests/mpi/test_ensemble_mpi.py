"""Micro ensembles under mpiexec: points spread over the component's ranks, results equal the serial run.

Serial references run in the same process on ``COMM_SELF``; every comparison is exact
(the same arithmetic per point, whatever rank runs it; the surrogate is fit on the
ensemble's rank 0 and its state broadcast).
"""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_parts import Field1D, Interp, Relax, Saturate
from mpi4py import MPI

import msmcore as msm
from msmcore.ensemble import REPORT_PORT

COMM = MPI.COMM_WORLD
SIZE = COMM.Get_size()
pytestmark = pytest.mark.skipif(SIZE < 2, reason="needs mpiexec -n 2 or more")


def stateful(comm, micro_ranks=None, n=11):
    c = msm.Coupling(comm=comm)
    micro_ranks = micro_ranks if comm.Get_size() > 1 else None
    c.add("macro", Field1D, n=n, drift=0.5, ranks=[0])
    c.add("micro", Relax, per_point="macro.u_out", r=2.0, dt=0.01, ranks=micro_ranks,
          ensemble={"batch": 2, "batch_setting": "points"})
    c.connect("macro.u_out", "micro.target_in")
    c.connect("micro.u_out", "macro.y_in")
    return c, msm.Serial(window=0.1, order=["micro", "macro"])


def closure(comm, surrogate=None, micro_ranks=None, n=30):
    c = msm.Coupling(comm=comm)
    c.add("macro", Field1D, n=n, drift=0.5, ranks=[0])
    c.add("micro", Saturate, per_point="macro.u_out", hill=2, ranks=micro_ranks,
          ensemble={"mode": "closure", "horizon": 1.0}, surrogate=surrogate)
    c.connect("macro.u_out", "micro.a_in")
    c.connect("micro.y_out", "macro.y_in")
    return c, msm.MacroMicro("macro", "micro", horizon=0.1)


def same(build, **kw):
    c, scheme = build(COMM, **kw)
    par = c.run(until=0.5, scheme=scheme, quiet=True)
    c1, scheme1 = build(MPI.COMM_SELF, **kw)
    ser = c1.run(until=0.5, scheme=scheme1, quiet=True)
    for port in [p for p in ser["micro"].data_vars]:
        np.testing.assert_array_equal(par["micro"][port].values, ser["micro"][port].values, err_msg=port)
    return c, par


@pytest.mark.parametrize("ranks", [None, [SIZE - 1]])
def test_stateful_ensemble_over_ranks_equals_serial(ranks):
    c, _ = same(stateful, micro_ranks=ranks)
    ens = c.components["micro"]
    if ranks is None:  # 11 points split over the ranks: this rank ran only its block
        start, stop = ens.point_range
        assert stop - start < 11 and sum(COMM.allgather(stop - start)) == 11


def test_closure_ensemble_over_ranks_equals_serial():
    same(closure)


def test_surrogate_ensemble_over_ranks_equals_serial():
    c, par = same(closure, surrogate={"model": Interp, "tolerance": 1e-3, "audit": 0.2})
    runs = par["micro"][REPORT_PORT].sel(report="micro_runs").values.sum()
    assert 0 < runs < 30 * 5
