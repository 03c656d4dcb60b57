"""Under mpiexec: Coupling.run caps each rank's BLAS/OpenMP pools so ranks x threads <= cores (msmcore.threads)."""

from __future__ import annotations

import os

import pytest
from mpi4py import MPI

import msmcore as msm
from msmcore import threads
from msmcore.threads import SETTING_ENV, THREAD_ENV, threads_per_rank

threadpoolctl = pytest.importorskip("threadpoolctl")
COMM = MPI.COMM_WORLD
pytestmark = pytest.mark.skipif(COMM.Get_size() < 2, reason="needs mpiexec -n 2 or more")


class Counter(msm.Component):
    n = msm.Setting(int, default=4)
    dt = msm.Setting(float, default=0.1)
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.output("x_out", self.n)]

    def step(self, dt):
        self.port_array("x_out")[:] += dt


def two_rank_run():
    c = msm.Coupling()
    c.add("a", Counter, ranks=[0])
    c.add("b", Counter, ranks=[COMM.Get_size() - 1])
    c.run(until=0.2, scheme=msm.Serial(window=0.1), quiet=True)


def widest_pool():
    return max(p["num_threads"] for p in threadpoolctl.threadpool_info())


@pytest.fixture
def wide_pools(monkeypatch):
    """No thread variable set, and every pool at 2 threads (as an unbound rank on a 2-core node gets)."""
    for name in (*THREAD_ENV, SETTING_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_OURS", {})
    limits = threadpoolctl.threadpool_limits(limits=2)
    if widest_pool() < 2:
        pytest.skip("no thread pool that can grow to 2 threads")
    yield monkeypatch
    limits.restore_original_limits()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.pop(name, None)


def test_run_caps_the_pools_to_the_ranks_share(wide_pools):
    node = COMM.Split_type(MPI.COMM_TYPE_SHARED)
    local = node.Get_size()
    node.Free()
    own, cpus = threads._cpus()
    cap = threads_per_rank(own, cpus, local)
    two_rank_run()
    assert widest_pool() == min(2, cap)
    assert os.environ["OPENBLAS_NUM_THREADS"] == str(cap)  # libraries loaded later start at the cap


@pytest.mark.parametrize(("name", "value"), [("OMP_NUM_THREADS", "2"), (SETTING_ENV, "off")])
def test_an_explicit_choice_is_left_alone(wide_pools, name, value):
    wide_pools.setenv(name, value)
    two_rank_run()
    assert widest_pool() == 2


def test_msm_threads_per_rank_sets_the_cap(wide_pools):
    wide_pools.setenv(SETTING_ENV, "1")
    two_rank_run()
    assert widest_pool() == 1
