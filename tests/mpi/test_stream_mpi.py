"""Results written as they come under mpiexec: rank 0's file equals the serial run's.

Run by `make test` under `mpiexec -n 2` and `-n 3` (valid with 1 rank).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import netCDF4
import pytest
import xarray as xr
from mpi4py import MPI
from mxn_parts import Blocks, Ramp, layouts

import msmcore as msm

COMM = MPI.COMM_WORLD
SIZE, RANK = COMM.Get_size(), COMM.Get_rank()


def coupling(comm, ramp_ranks=None, block_ranks=None) -> msm.Coupling:  # type: ignore[no-untyped-def]
    c = msm.Coupling(comm)
    c.add("ramp", Ramp, ranks=ramp_ranks)
    c.add("blocks", Blocks, ranks=block_ranks)
    c.connect("ramp.r_out", "blocks.u_in")
    return c


def groups(path: Path) -> dict[str, xr.Dataset]:
    """Each group, without its timings (run-specific)."""
    with netCDF4.Dataset(path) as root:
        names = json.loads(root.getncattr("msmcore_components"))
    out = {}
    for name in names:
        with xr.open_dataset(path, group=name, decode_times=False, decode_timedelta=False) as ds:
            out[name] = ds.load()
        out[name].attrs.pop("timings")
    return out


@pytest.fixture
def shared_dir():  # type: ignore[no-untyped-def]
    folder = tempfile.mkdtemp(prefix="msm-stream-mpi-") if RANK == 0 else None
    yield Path(COMM.bcast(folder, root=0))
    COMM.Barrier()
    if RANK == 0:
        shutil.rmtree(folder)


@pytest.mark.parametrize("layout", list(layouts()))
def test_rank_0_file_equals_the_serial_one(layout, shared_dir):
    ramp_ranks, block_ranks = layouts()[layout]
    out = shared_dir / f"mpi-{layout.replace(' ', '-')}.nc"
    res = coupling(COMM, ramp_ranks, block_ranks).run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True,
                                                      out=msm.ResultsFile(out, flush_every=2))
    COMM.Barrier()  # rank 0 has closed the file
    if RANK == 0:
        serial_out = shared_dir / f"serial-{layout.replace(' ', '-')}.nc"
        serial = coupling(MPI.COMM_SELF).run(until=2.0, scheme=msm.Serial(window=0.5), quiet=True, out=serial_out)
        got, want = groups(out), groups(serial_out)
        assert list(got) == ["ramp", "blocks"] == list(want)
        for name in got:
            assert got[name].identical(want[name]), (name, got[name], want[name])
            assert got[name].sizes["time"] == 5
        msm.Result.from_netcdf(out)  # readable as a whole
        assert res.rank == 0 and serial.rank == 0
    COMM.Barrier()


def test_an_unwritable_out_is_refused_on_every_rank(shared_dir):
    with pytest.raises(msm.ConfigurationError, match="the folder .*nowhere does not exist"):
        coupling(COMM).run(until=1.0, scheme=msm.Serial(window=0.5), quiet=True, out=shared_dir / "nowhere" / "r.nc")
