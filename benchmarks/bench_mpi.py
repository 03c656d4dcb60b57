"""Exchange between components on different ranks against raw mpi4py, under ``mpiexec -n 2``.

A source component's field lives on rank 0, the target's on rank 1; the msmcore
transfer is one PETSc Scatter on the parent communicator (``Transfer.apply``). The
baseline is mpi4py ``Send``/``Recv`` of the same bytes, measured in the same run:

* latency (100 doubles): msmcore one exchange vs a raw round trip (ping-pong);
* bandwidth (80 MB = 10^7 doubles): msmcore one exchange vs a raw one-way message
  (half a ping-pong).

Prints one JSON line on rank 0.
"""

from __future__ import annotations

import json
import statistics
import sys

import numpy as np
from mpi4py import MPI

from msmcore.field import Field
from msmcore.ports import FieldSpec
from msmcore.transfer import Transfer

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

COMM = MPI.COMM_WORLD
RANK = COMM.Get_rank()


def timed(fn, number: int, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median over ``repeat`` of the mean time of ``number`` calls, synchronised on all ranks."""
    fn()
    samples = []
    for _ in range(repeat):
        COMM.Barrier()
        t0 = MPI.Wtime()
        for _ in range(number):
            fn()
        samples.append((MPI.Wtime() - t0) / number)
    return float(COMM.bcast(statistics.median(samples), root=0))


def measure(n: int, number: int, repeat: int) -> dict[str, float]:
    spec = FieldSpec((n,))
    src = np.arange(n, dtype=float) if RANK == 0 else np.zeros(0)
    dst = np.zeros(n) if RANK == 1 else np.zeros(0)
    idx_src = np.arange(n) if RANK == 0 else np.zeros(0, dtype=np.int64)
    idx_dst = np.arange(n) if RANK == 1 else np.zeros(0, dtype=np.int64)
    f_src = Field(src, spec, "a.out", comm=COMM, indices=idx_src)
    f_dst = Field(dst, spec, "b.in", comm=COMM, indices=idx_dst)
    transfer = Transfer(f_src, f_dst, comm=COMM)
    msm_s = timed(transfer.apply, number, repeat)
    if RANK == 1:
        assert np.array_equal(dst, np.arange(n, dtype=float))
    buf = np.arange(n, dtype=float) if RANK == 0 else np.zeros(n)

    def pingpong() -> None:
        if RANK == 0:
            COMM.Send(buf, dest=1)
            COMM.Recv(buf, source=1)
        elif RANK == 1:
            COMM.Recv(buf, source=0)
            COMM.Send(buf, dest=0)

    raw_rt = timed(pingpong, number, repeat)
    transfer.destroy()
    f_src.destroy()
    f_dst.destroy()
    return {"msmcore_s": msm_s, "raw_roundtrip_s": raw_rt, "raw_oneway_s": raw_rt / 2}


def main() -> None:
    if COMM.Get_size() < 2:
        raise SystemExit("run under mpiexec -n 2")
    small = measure(100, number=2000, repeat=9)
    large = measure(10_000_000, number=3, repeat=5)
    if RANK == 0:
        print(json.dumps({"machine": machine(), "ranks": COMM.Get_size(), "small_100": small,
                          "large_80MB": large}))


if __name__ == "__main__":
    main()
