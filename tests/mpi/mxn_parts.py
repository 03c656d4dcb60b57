"""Components for the MPI tests: one distributed by blocks over its ranks, one serial."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

import msmcore as msm

N = 10
SIZE = MPI.COMM_WORLD.Get_size()


def layouts() -> dict[str, tuple[object, object]]:
    """Placements (ramp, blocks) to test for this many ranks."""
    out: dict[str, tuple[object, object]] = {"all on all": (None, None)}
    if SIZE >= 2:
        out["each on its own"] = ([0], [1])
        out["reversed"] = ([SIZE - 1], [0])
    if SIZE >= 3:
        out["one on two, one on one"] = ([2], [0, 1])
    return out


def block(n: int, comm) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """This rank's contiguous block of n values (sizes differ by at most one)."""
    size, rank = (1, 0) if comm is None else (comm.Get_size(), comm.Get_rank())
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


class Blocks(msm.Component):
    """out = 2 * in + t, elementwise, with the field split in blocks over its ranks."""

    state_attributes = ()  # the port arrays are the whole state
    n = msm.Setting(int, default=N)

    def declare_ports(self):
        return [msm.Port.input("u_in", self.n), msm.Port.output("u_out", self.n)]

    def port_indices(self, name):
        lo, hi = block(self.n, self.comm)
        return np.arange(lo, hi)

    def port_array(self, name):
        if name not in self._arrays:
            lo, hi = block(self.n, self.comm)
            self._arrays[name] = np.zeros(hi - lo)
        return self._arrays[name]

    def advance(self, t_end):
        np.add(2.0 * self.port_array("u_in"), t_end, out=self.port_array("u_out"))
        self.t = t_end


class Ramp(msm.Component):
    """A serial component: out[i] = i + t (rank 0 of its communicator holds the field)."""

    state_attributes = ()
    n = msm.Setting(int, default=N)
    dt = msm.Setting(float, default=0.5)

    def declare_ports(self):
        return [msm.Port.input("feedback", self.n, required=False), msm.Port.output("r_out", self.n)]

    def initialize(self):
        out = self.port_array("r_out")
        out[...] = np.arange(out.size)

    def step(self, dt):
        out = self.port_array("r_out")
        if out.size:
            out[...] = np.arange(out.size) + self.t + dt


def expected(until: float, window: float) -> np.ndarray:
    """Serial expectation of Blocks' output at each window (Gauss-Seidel: ramp first)."""
    times = np.arange(1, round(until / window) + 1) * window
    return np.array([2.0 * (np.arange(N) + t) + t for t in times])
