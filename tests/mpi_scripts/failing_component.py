"""A coupling whose component fails on one rank: run under mpiexec by tests/test_mpi_failure.py.

Component 'bad' runs on the last rank and raises at t = 3; component 'good' runs on
rank 0 and would otherwise wait forever in the next exchange. With a path as argument
the results are written there as they come, flushed at every sample.
"""

from __future__ import annotations

import sys

from mpi4py import MPI

import msmcore as msm


class Good(msm.Component):
    """Outputs a constant."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("x_in", 1, required=False), msm.Port.output("x_out", 1)]

    def step(self, dt):
        pass


class Bad(Good):
    """Raises at t = 3."""

    def step(self, dt):
        if self.t + dt >= 3.0:
            raise RuntimeError("the solver blew up")


size = MPI.COMM_WORLD.Get_size()
c = msm.Coupling()
c.add("good", Good, ranks=[0])
c.add("bad", Bad, ranks=[size - 1])
c.connect("good.x_out", "bad.x_in")
c.connect("bad.x_out", "good.x_in")
out = msm.ResultsFile(sys.argv[1], flush_every=1) if len(sys.argv) > 1 else None  # results as they come
c.run(until=10.0, scheme=msm.Serial(window=1.0, order=["good", "bad"]), quiet=True, out=out)
print("finished", flush=True)  # never reached
sys.exit(0)
