"""Profiling: the events of a run, their totals, the NetCDF group, ``msm profile`` and its timeline."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from coupling_parts import Counter, Echo

import msmcore as msm
from msmcore.cli import main
from msmcore.profile import CHECKPOINT, COUPLING, KINDS, OVERHEAD, EventLog
from msmcore.schemes import Serial
from msmcore.schemes.base import window_ends

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COMPUTE = ("initialize", "advance", "receive", "save_state", "restore_state", "finalize")


def pair() -> msm.Coupling:
    c = msm.Coupling()
    c.add("a", Counter)
    c.add("b", Echo)
    c.connect("a.count", "b.value")
    return c


def kinds_of(table: pd.DataFrame, name: str) -> list[str]:
    return [str(k) for k in table[table["component"] == name]["kind"]]


def assert_no_overlap(table: pd.DataFrame) -> None:
    """On each rank, events follow each other: none starts before the previous one ended."""
    for _, events in table[table["count"] == 1].groupby("rank"):
        start, end = events["start"].to_numpy(), events["end"].to_numpy()
        assert (end >= start).all()
        assert (start[1:] >= end[:-1]).all(), "events overlap"


# -- the events --------------------------------------------------------------------------------------
def test_every_component_and_kind_that_happened_is_recorded_in_order():
    res = pair().run(until=3.0, scheme=msm.Serial(window=1.0), quiet=True)
    table = res.profile
    assert list(table.columns) == ["component", "rank", "kind", "start", "end", "duration", "t", "count"]
    assert set(table["rank"]) == {0} and (table["count"] == 1).all()
    # a: no inputs; b: the initial exchange, then each window a transfer, receive() and advance
    assert kinds_of(table, "a") == ["initialize", "advance", "advance", "advance", "finalize"]
    assert kinds_of(table, "b") == ["initialize", "transfer", "receive"] + ["transfer", "receive", "advance"] * 3 \
        + ["finalize"]
    np.testing.assert_array_equal(table[(table["component"] == "a") & (table["kind"] == "advance")]["t"],
                                  [1.0, 2.0, 3.0])
    # Serial order: in each window a advances, then b gets its output
    b_rows = table[table["component"] == "b"].reset_index()
    a_adv = table[(table["component"] == "a") & (table["kind"] == "advance")]["end"].to_numpy()
    b_transfers = b_rows[b_rows["kind"] == "transfer"]["start"].to_numpy()[1:]
    assert (b_transfers >= a_adv).all()
    np.testing.assert_allclose(table["duration"], table["end"] - table["start"], rtol=0, atol=1e-15)
    assert_no_overlap(table)
    for name in ("a", "b"):
        compute = table[(table["component"] == name) & table["kind"].isin(COMPUTE)]
        assert (compute["start"].to_numpy()[1:] >= compute["end"].to_numpy()[:-1]).all()


def test_implicit_windows_record_save_and_restore():
    from test_implicit import loop

    res = loop().run(until=2.0, scheme=msm.Implicit(1.0, acceleration=msm.Aitken(), rel_tol=1e-10), quiet=True)
    table = res.profile
    iterations = res.info["iterations"]
    for name in ("a", "b"):
        kinds = kinds_of(table, name)
        assert kinds.count("save_state") == len(iterations)  # once per window
        assert kinds.count("restore_state") == sum(k - 1 for k in iterations)  # before every repeated iteration
        assert kinds.count("advance") == sum(iterations)
        assert "transfer" in kinds and "receive" in kinds
    assert_no_overlap(table)


class Snapshots(Serial):
    """Serial, plus what checkpoint code does at each window's end, inside runner.checkpointing."""

    def run(self, runner):  # type: ignore[no-untyped-def]
        for t_end in window_ends(runner.start, runner.until, 1.0):
            for name in ("a", "b"):
                runner.deliver(name)
                runner.advance(name, t_end)
            runner.sync(t_end)
            with runner.checkpointing(t_end):
                time.sleep(0.002)  # "writing the file"
                states = runner.save_states()
                time.sleep(0.002)
                runner.restore_states(states)  # as a resumed run reads it back


def test_checkpoint_events_of_the_coupling_and_each_component():
    res = pair().run(until=3.0, scheme=Snapshots(window=1.0), quiet=True)
    table = res.profile
    ckpt = table[table["kind"] == "checkpoint"]
    # per snapshot: each component's save_state, and the coupling's time around and between them
    comps = list(ckpt["component"])
    assert [c for c in comps if c != COUPLING] == ["a", "b", "a", "b"] * 3
    assert comps[0] == comps[-1] == COUPLING
    coupling_t = ckpt[ckpt["component"] == COUPLING]["t"].to_numpy()
    assert set(coupling_t) == {1.0, 2.0, 3.0} and (np.diff(coupling_t) >= 0).all()
    assert not {"save_state", "restore_state"} & set(table["kind"])  # inside a checkpoint: checkpoint time
    assert ckpt[ckpt["component"] == COUPLING]["duration"].sum() >= 3 * 0.004
    assert_no_overlap(table)
    totals = res.profile_totals()
    assert totals.loc[COUPLING, "checkpoint"] >= 0.012 and totals.loc[COUPLING, "compute"] == 0
    assert totals.loc["a", "checkpoint"] > 0
    assert totals["total"].sum() == pytest.approx(res.wall_s, rel=1e-9)


def test_checkpoints_do_not_nest():
    log = EventLog(["a", COUPLING])
    with log.enclosing(1, CHECKPOINT, 0.0):
        with pytest.raises(msm.MSMError, match="cannot start a 'checkpoint' event of '\\(coupling\\)' inside the "
                                               "open 'checkpoint' event"):
            log.open(1, CHECKPOINT, 0.0)


# -- totals -----------------------------------------------------------------------------------------
def test_totals_add_up_to_the_wall_time():
    res = pair().run(until=5.0, scheme=msm.Serial(window=1.0), quiet=True)
    table, totals = res.profile, res.profile_totals()
    assert list(totals.index) == ["a", "b", OVERHEAD]
    assert list(totals.columns) == ["compute", "exchange", "wait", "checkpoint", "overhead", "total"]
    assert totals["total"].sum() == pytest.approx(res.wall_s, rel=1e-9, abs=1e-12)
    assert totals.attrs["wall_s"] == pytest.approx(res.wall_s, rel=1e-12)
    overhead = totals.loc[OVERHEAD, "total"]
    assert 0 < overhead < res.wall_s
    assert overhead == pytest.approx(res.wall_s - table["duration"].sum(), rel=1e-9, abs=1e-12)
    for name in ("a", "b"):
        rows = table[table["component"] == name]
        assert totals.loc[name, "compute"] == pytest.approx(rows[rows["kind"].isin(COMPUTE)]["duration"].sum())
        assert totals.loc[name, "exchange"] == pytest.approx(rows[rows["kind"] == "transfer"]["duration"].sum())
        parts = totals.loc[name, ["compute", "exchange", "wait", "checkpoint", "overhead"]].sum()
        assert totals.loc[name, "total"] == pytest.approx(parts)
        # the timings the runner used to add up by hand come from the same events
        assert res.timings[name]["compute_s"] == pytest.approx(rows[rows["kind"] == "advance"]["duration"].sum())
        assert res.timings[name]["initialize_s"] == pytest.approx(
            rows[rows["kind"] == "initialize"]["duration"].sum())
        assert res.timings[name]["advance_calls"] == 5
    assert res.timings["b"]["exchange_s"] > 0 and res.timings["a"]["exchange_s"] == 0
    phases = res.profile_data.overhead_by_phase()
    assert list(phases) == ["set-up", "windows", "results and clean-up"]
    assert all(v >= 0 for v in phases.values()) and sum(phases.values()) == pytest.approx(overhead, rel=1e-9)
    by_kind = res.profile_totals(kinds=True)
    assert by_kind.loc["b", "advance"] + by_kind.loc["b", "receive"] + by_kind.loc["b", "initialize"] \
        + by_kind.loc["b", "finalize"] == pytest.approx(totals.loc["b", "compute"])
    by_rank = res.profile_totals(by_rank=True)
    assert list(by_rank.index) == [("a", 0), ("b", 0), (OVERHEAD, 0)]


def test_profile_off_keeps_the_totals_only():
    full = pair().run(until=4.0, scheme=msm.Serial(window=1.0), quiet=True)
    off = pair().run(until=4.0, scheme=msm.Serial(window=1.0), quiet=True, profile=False)
    table = off.profile
    assert (table["count"] > 1).any() and len(table) < len(full.profile)
    assert table["count"].sum() == len(full.profile)  # every event is in a sum
    assert off.timings["b"]["advance_calls"] == 4 and off.timings["b"]["exchange_s"] > 0
    assert off.profile_totals()["total"].sum() == pytest.approx(off.wall_s, rel=1e-9)
    with pytest.raises(msm.MSMError, match="holds only totals .* no timeline to draw"):
        off.profile_data.timeline("never.png")


def test_events_beyond_max_events_are_summed_per_component_and_kind(monkeypatch):
    full = pair().run(until=50.0, scheme=msm.Serial(window=1.0), quiet=True)
    res = pair().run(until=50.0, scheme=msm.Serial(window=1.0), quiet=True, profile=20)
    table = res.profile
    kept, summed = table.iloc[:20], table.iloc[20:]  # the sums come last, one per component and kind
    assert (kept["count"] == 1).all() and (summed["count"] > 1).any()
    assert not summed.duplicated(["component", "kind"]).any()
    assert table["count"].sum() == len(full.profile)
    assert list(summed[summed["kind"] == "advance"]["count"]) == [50 - kinds_of(kept, "a").count("advance"),
                                                                  50 - kinds_of(kept, "b").count("advance")]
    assert res.timings["a"]["advance_calls"] == 50 and res.timings["b"]["advance_calls"] == 50
    assert res.profile_totals()["total"].sum() == pytest.approx(res.wall_s, rel=1e-9)
    assert "events beyond the 20 kept per rank are summed" in res.profile_data.report()
    monkeypatch.setenv("MSM_PROFILE", "0")
    off = pair().run(until=2.0, scheme=msm.Serial(window=1.0), quiet=True)
    assert off.profile_data.max_events == 0 and off.timings["a"]["advance_calls"] == 2


def test_the_arrays_grow_beyond_their_first_size():
    log = EventLog(["a", COUPLING], max_events=5000, capacity=4)
    for i in range(3000):
        log.record(0, 1, float(i), i + 0.5, float(i))
    log.end()
    profile = log.profile()
    assert len(profile) == 3000 and (profile.count == 1).all()
    np.testing.assert_allclose(profile.duration, 0.5)


def test_the_profile_argument_is_checked():
    with pytest.raises(msm.ConfigurationError, match="run\\(profile=...\\) must be True, False or a number"):
        pair().run(until=1.0, scheme=msm.Serial(window=1.0), profile="yes")  # type: ignore[arg-type]
    with pytest.raises(msm.ConfigurationError, match="got -1"):
        pair().run(until=1.0, scheme=msm.Serial(window=1.0), profile=-1)


# -- files and the command line ------------------------------------------------------------------
def test_netcdf_round_trip(tmp_path):
    res = pair().run(until=3.0, scheme=Snapshots(window=1.0), quiet=True)
    back = msm.Result.from_netcdf(res.to_netcdf(tmp_path / "out.nc"))
    pd.testing.assert_frame_equal(back.profile, res.profile)
    pd.testing.assert_frame_equal(back.profile_totals(), res.profile_totals())
    np.testing.assert_array_equal(back.profile_data.marks, res.profile_data.marks)
    assert back.profile_data.epoch == res.profile_data.epoch
    assert list(back) == ["a", "b"]  # the profile group is not a component


def test_a_file_without_profile_says_so(tmp_path, capsys):
    import netCDF4

    res = pair().run(until=2.0, scheme=msm.Serial(window=1.0), quiet=True)
    res.profile_data = None
    path = res.to_netcdf(tmp_path / "old.nc")
    with netCDF4.Dataset(path) as root:
        assert "msmcore_profile" not in root.groups
    back = msm.Result.from_netcdf(path)
    with pytest.raises(msm.MSMError, match="this result has no profile"):
        back.profile  # noqa: B018
    assert main(["profile", str(path)]) == 1
    assert capsys.readouterr().err == f"msm: error: {path} holds no profile (written by an msmcore without " \
                                      "profiling); run the coupling again\n"


def test_msm_run_then_msm_profile_prints_totals_and_draws_the_timeline(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(EXAMPLES / "reaction_diffusion")
    out, png = tmp_path / "rd.nc", tmp_path / "timeline.png"
    assert main(["run", "rd.yaml", "--out", str(out), "--quiet"]) == 0
    assert main(["profile", str(out), "--timeline", str(png)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith(f"profile of {out}: MacroMicro(")
    header = lines[1].split()
    assert header[:6] == ["component", "compute", "s", "exchange", "s", "wait"] and "wall" in header
    shares = {line.split()[0]: float(line.split()[-1].rstrip("%")) for line in lines[2:5]}
    assert list(shares) == ["macro", "micro", "(framework"]
    assert sum(shares.values()) == pytest.approx(100.0, abs=0.2)  # rounded to 0.1 % each
    assert "framework overhead: set-up" in text and f"timeline written to {png}" in text
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_msm_profile_errors_are_one_line(tmp_path, capsys):
    assert main(["profile", str(tmp_path / "missing.nc")]) == 1
    assert capsys.readouterr().err == f"msm: error: no results file {tmp_path / 'missing.nc'}; give the --out " \
                                      "file of `msm run`\n"
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    assert main(["profile", str(junk)]) == 1
    assert capsys.readouterr().err.startswith(f"msm: error: {junk} is not a results file written by msmcore (")
    assert main(["profile", str(junk), "--timeline", str(tmp_path / "t.txt")]) == 1
    assert "give a .png, .svg or .pdf file name" in capsys.readouterr().err


def test_timeline_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path):
    res = pair().run(until=2.0, scheme=msm.Serial(window=1.0), quiet=True)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(msm.MSMError, match="drawing a timeline needs matplotlib, which is not installed: "
                                           "pip install matplotlib"):
        res.profile_data.timeline(tmp_path / "t.png")


def test_kinds_are_the_documented_ones():
    assert KINDS == ("initialize", "advance", "receive", "transfer", "wait", "save_state", "restore_state",
                     "checkpoint", "finalize")
    text = (Path(__file__).resolve().parents[1] / "docs" / "coupling.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, kind
