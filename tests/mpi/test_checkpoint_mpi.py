"""Checkpoint/restart under mpiexec: one file per rank plus a manifest, resumed bit for bit.

Reaction–diffusion in two placements: run to the middle with snapshots, resume from
the checkpoint folder to the end, compare with an uninterrupted run exactly. A
snapshot whose manifest is missing (a run killed while writing it) is skipped with a
warning on every rank.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

import msmcore as msm
from msmcore.checkpoint import CheckpointWarning, snapshot_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMM = MPI.COMM_WORLD
SIZE = COMM.Get_size()

spec = importlib.util.spec_from_file_location("rd_ckpt_mpi", EXAMPLES / "reaction_diffusion" / "rd.py")
rd = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(EXAMPLES / "reaction_diffusion"))
spec.loader.exec_module(rd)

PLACEMENTS = {"all on all": (None, None), "each on its own": ([0], [1])}


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """One folder for every rank (rank 0's tmp_path)."""
    return Path(COMM.bcast(str(tmp_path), root=0))


@pytest.mark.skipif(SIZE < 2, reason="needs mpiexec -n 2 or more")
@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_reaction_diffusion_resumes_bit_for_bit_under_mpi(shared, placement):
    macro, micro = PLACEMENTS[placement]
    if macro is not None and SIZE != 2:
        pytest.skip("placement written for two ranks")
    c, scheme = rd.build(macro_ranks=macro, micro_ranks=micro)
    full = c.run(until=rd.T_END, scheme=scheme, quiet=True)
    folder = shared / placement.replace(" ", "_")
    c, scheme = rd.build(macro_ranks=macro, micro_ranks=micro)
    c.run(until=25 * rd.MACRO_DT, scheme=scheme, quiet=True,
          checkpoint=msm.Checkpoints(every=10 * rd.MACRO_DT, keep=2, path=folder))
    COMM.Barrier()
    snaps = snapshot_files(folder, parallel=True)
    assert [s.name for s in snaps] == ["snapshot-000000000020.d", "snapshot-000000000010.d"]
    assert sorted(p.name for p in snaps[0].iterdir()) == ["manifest.json"] + [f"rank-{r:05d}.h5" for r in range(SIZE)]
    c, scheme = rd.build(macro_ranks=macro, micro_ranks=micro)
    resumed = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder)
    for name in full:
        assert full[name].equals(resumed[name]), name
        assert np.array_equal(full[name]["state_out"].values, resumed[name]["state_out"].values)
    # A snapshot without its manifest is incomplete: every rank skips it for the one before.
    COMM.Barrier()
    if COMM.Get_rank() == 0:
        (snaps[0] / "manifest.json").unlink()
    COMM.Barrier()
    c, scheme = rd.build(macro_ranks=macro, micro_ranks=micro)
    with pytest.warns(CheckpointWarning, match="incomplete"):
        again = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder)
    for name in full:
        assert full[name].equals(again[name]), name


hspec = importlib.util.spec_from_file_location("heat_ckpt_mpi", EXAMPLES / "partitioned_heat" / "heat.py")
heat = importlib.util.module_from_spec(hspec)
hspec.loader.exec_module(heat)


@pytest.mark.skipif(SIZE != 2, reason="placement written for two ranks")
def test_partitioned_heat_with_iqn_ils_resumes_bit_for_bit_under_mpi(shared):
    def scheme() -> msm.Implicit:
        return msm.Implicit(heat.WINDOW, order=["left", "right"], acceleration=msm.IQNILS(0.1, reuse=8),
                            rel_tol=1e-12, abs_tol=1e-14, max_iterations=100)

    def build() -> msm.Coupling:
        return heat.build(left_ranks=[0], right_ranks=[1])

    full = build().run(until=heat.T_END, scheme=scheme(), quiet=True)
    build().run(until=0.5, scheme=scheme(), quiet=True, checkpoint=msm.Checkpoints(path=shared / "heat"))
    resumed = build().run(until=heat.T_END, scheme=scheme(), quiet=True, resume=shared / "heat")
    assert resumed.info["iterations"] == full.info["iterations"]
    for name in full:
        assert full[name].equals(resumed[name]), name


@pytest.mark.skipif(SIZE != 2, reason="placement written for two ranks")
def test_a_changed_placement_is_refused_on_every_rank(shared):
    c, scheme = rd.build(macro_ranks=[0], micro_ranks=[1])
    c.run(until=5 * rd.MACRO_DT, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(path=shared / "placed"))
    c, scheme = rd.build()
    with pytest.raises(msm.ConfigurationError, match=r"the placement is .* now but .*'macro': \[0\], 'micro': \[1\]"):
        c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=shared / "placed")
