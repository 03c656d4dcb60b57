"""Profiling under mpiexec: every rank gets the events of all ranks, and ranks wait for components they do not run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mpi4py import MPI

import msmcore as msm
from msmcore.profile import OVERHEAD

COMM = MPI.COMM_WORLD
RANK, SIZE = COMM.Get_rank(), COMM.Get_size()
RD = Path(__file__).resolve().parents[2] / "examples" / "reaction_diffusion" / "rd.py"

pytestmark = pytest.mark.skipif(SIZE < 2, reason="needs mpiexec -n 2 or more")


def load_rd():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("rd_profile_mpi", RD)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(RD.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(RD.parent))
    return module


rd = load_rd()


def kinds(table: pd.DataFrame, name: str, rank: int) -> set[str]:
    return {str(k) for k in table[(table["component"] == name) & (table["rank"] == rank)]["kind"]}


def test_each_model_on_its_own_rank_and_the_others_wait():
    coupling, scheme = rd.build(macro_ranks=[0], micro_ranks=[1])
    res = coupling.run(until=rd.T_END, scheme=scheme, quiet=True)
    table = res.profile
    # every rank holds the same events of every rank
    assert sorted(set(table["rank"])) == list(range(SIZE))
    everyone = COMM.allgather((len(table), float(table["duration"].sum()), float(table["start"].sum())))
    assert all(e == everyone[0] for e in everyone)
    # each component computes on its own rank only; the other ranks wait in the transfers into it
    assert {"initialize", "advance", "transfer", "receive", "finalize"} <= kinds(table, "macro", 0)
    assert {"initialize", "advance", "transfer", "receive", "finalize"} <= kinds(table, "micro", 1)
    for rank in range(SIZE):
        if rank != 0:
            assert kinds(table, "macro", rank) == {"wait"}
        if rank != 1:
            assert kinds(table, "micro", rank) == {"wait"}
    waits = table[(table["rank"] == 1) & (table["component"] == "macro")]
    assert len(waits) >= 50 and (waits["duration"] >= 0).all()  # every transfer into macro, and the gathers
    assert res.timings["macro"]["advance_calls"] == (50 if RANK == 0 else 0)
    # each rank's events follow each other, and with its overhead add up to its wall time
    for rank, events in table.groupby("rank"):
        assert (events["start"].to_numpy()[1:] >= events["end"].to_numpy()[:-1]).all(), rank
    by_rank = res.profile_totals(by_rank=True)
    wall = res.profile_data.wall
    for rank in range(SIZE):
        mine = by_rank.xs(rank, level="rank")["total"].sum()
        assert mine == pytest.approx(wall[rank], rel=1e-9)
    assert wall[RANK] == pytest.approx(res.wall_s, rel=1e-12)
    totals = res.profile_totals()
    assert list(totals.index) == ["macro", "micro", OVERHEAD]
    assert totals.loc["macro", "wait"] > 0 and totals.loc["micro", "wait"] > 0
    assert totals["total"].sum() == pytest.approx(wall.sum(), rel=1e-9)


def test_all_on_all_ranks_gathers_the_results_and_writes_the_profile(tmp_path_factory):
    coupling, scheme = rd.build()
    res = coupling.run(until=rd.T_END, scheme=scheme, quiet=True)
    table = res.profile
    for rank in range(SIZE):  # every rank runs both; the gathers of the results are waits
        for name in ("macro", "micro"):
            assert {"advance", "transfer", "wait"} <= kinds(table, name, rank)
    folder = COMM.bcast(str(tmp_path_factory.mktemp("profile")) if RANK == 0 else None)
    path = res.to_netcdf(Path(folder) / "rd.nc")  # rank 0 writes
    COMM.Barrier()
    back = msm.Result.from_netcdf(path)
    pd.testing.assert_frame_equal(back.profile, table)
    np.testing.assert_array_equal(back.profile_data.wall, res.profile_data.wall)
