"""Checkpoint/restart: an interrupted and resumed run equals the uninterrupted one bit for bit.

Each test runs a coupling to the end with snapshots (the reference), then the same
coupling again until a component fails at a chosen window, then resumes a fresh
coupling from the failed run's checkpoint folder and compares every dataset with
``xarray.Dataset.equals`` (values, coordinates and times exactly).
"""

from __future__ import annotations

import collections
import enum
import json
import logging
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from checkpoint_parts import assert_same, crash_after
from example_loader import load_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import msmcore as msm
from msmcore.checkpoint import CheckpointError, CheckpointWarning, read_snapshot, snapshot_files
from msmcore.state_codec import Digest, StateEncodingError, decode, encode

pytest.importorskip("msm_fluid")
pytest.importorskip("msm_kinetics")


rd = load_example("reaction_diffusion", "rd")
heat = load_example("partitioned_heat", "heat")


# -- reaction-diffusion (MacroMicro) -------------------------------------------------------
def _rd_interrupted(tmp_path: Path, crash_window: int, every: int = 1, keep: int = 2) -> Path:
    c, scheme = rd.build()
    crash_after(c, "macro", crash_window * rd.MACRO_DT * (1 + 1e-9))
    ckpt = msm.Checkpoints(every=every * rd.MACRO_DT, keep=keep, path=tmp_path / "run.ckpt")
    with pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=rd.T_END, scheme=scheme, quiet=True, checkpoint=ckpt)
    return tmp_path / "run.ckpt"


@pytest.fixture(scope="module")
def rd_full() -> msm.Result:
    c, scheme = rd.build()
    return c.run(until=rd.T_END, scheme=scheme, quiet=True)


def test_reaction_diffusion_resumed_after_a_crash_equals_the_uninterrupted_run(tmp_path, rd_full):
    folder = _rd_interrupted(tmp_path, crash_window=23, every=5, keep=2)
    files = snapshot_files(folder)
    assert [f.name for f in files] == ["snapshot-000000000020.h5", "snapshot-000000000015.h5"]
    snap = read_snapshot(files[0])
    assert snap.windows_done == 20 and snap.t == 20 * rd.MACRO_DT
    c, scheme = rd.build()
    resumed = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder)
    assert_same(resumed, rd_full)
    # ... and the snapshot did matter: a run from t = 0 over the same span differs
    assert not np.array_equal(rd_full["macro"]["state_out"].values[20], rd_full["macro"]["state_out"].values[0])


def test_the_results_file_continues_after_the_snapshot_or_is_written_anew_from_it(tmp_path, rd_full):
    c, scheme = rd.build()
    crash_after(c, "macro", 23 * rd.MACRO_DT * (1 + 1e-9))
    ckpt = msm.Checkpoints(every=5 * rd.MACRO_DT, keep=2, path=tmp_path / "run.ckpt")
    with pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=rd.T_END, scheme=scheme, quiet=True, checkpoint=ckpt, out=tmp_path / "rd.nc")
    partial = msm.Result.from_netcdf(tmp_path / "rd.nc")
    assert partial["macro"].sizes["time"] == 24  # t = 0 and 23 windows: everything sampled before the crash
    expected = tmp_path / "expected.nc"
    rd_full.to_netcdf(expected)
    for out in ("rd.nc", "new.nc"):  # the same file (samples after the snapshot dropped), or a new one
        c, scheme = rd.build()
        resumed = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=tmp_path / "run.ckpt",
                        out=tmp_path / out)
        assert_same(resumed, rd_full)
        assert_same(msm.Result.from_netcdf(tmp_path / out), msm.Result.from_netcdf(expected))


def test_resuming_with_a_later_until_extends_the_run(tmp_path, rd_full):
    c, scheme = rd.build()
    half = 25 * rd.MACRO_DT
    c.run(until=half, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(path=tmp_path / "ck"))
    c, scheme = rd.build()
    with pytest.raises(msm.ConfigurationError, match="must end after the snapshot"):
        c.run(until=half, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    resumed = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    assert_same(resumed, rd_full)


def test_a_corrupt_newest_snapshot_falls_back_to_the_previous_one_with_a_warning(tmp_path, rd_full, caplog):
    folder = _rd_interrupted(tmp_path, crash_window=33, every=10, keep=3)
    newest, previous = snapshot_files(folder)[:2]
    assert newest.name == "snapshot-000000000030.h5"
    with h5py.File(newest, "r+") as f:  # one value changed, the checksum left as it was
        g = f["components"]["000000"]["state"]
        key = sorted(g)[json.loads(g.attrs["keys"]).index("u")]
        g[key][7] += 1.0
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_snapshot(newest)
    c, scheme = rd.build()
    with caplog.at_level(logging.WARNING, logger="msmcore.checkpoint"), \
            pytest.warns(CheckpointWarning, match="snapshot-000000000030.h5"):
        resumed = c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder)
    assert "skipping snapshot" in caplog.text
    assert_same(resumed, rd_full)
    # A torn file (cut short, as by a crash during a copy) is detected as well.
    data = previous.read_bytes()
    previous.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="torn or damaged"):
        read_snapshot(previous)
    # A snapshot file named explicitly is used or refused, never silently replaced.
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=newest)


def test_snapshots_of_another_history_are_deleted_when_a_resumed_run_writes(tmp_path, rd_full, caplog):
    folder = _rd_interrupted(tmp_path, crash_window=31, every=10, keep=2)
    newest = snapshot_files(folder)[0]
    newest.write_bytes(newest.read_bytes()[:1000])  # damaged: the resumed run starts from window 20
    c, scheme = rd.build()
    crash_after(c, "macro", 27 * rd.MACRO_DT * (1 + 1e-9))
    with pytest.warns(CheckpointWarning), caplog.at_level(logging.WARNING, logger="msmcore.checkpoint"), \
            pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder,
              checkpoint=msm.Checkpoints(every=5 * rd.MACRO_DT, keep=1, path=folder))
    assert "belongs to another run" in caplog.text
    assert [f.name for f in snapshot_files(folder)] == ["snapshot-000000000025.h5"]  # not the damaged 30
    c, scheme = rd.build()
    assert_same(c.run(until=rd.T_END, scheme=scheme, quiet=True, resume=folder), rd_full)


def test_no_temporary_files_are_left_and_only_keep_snapshots_stay(tmp_path):
    folder = _rd_interrupted(tmp_path, crash_window=12, every=2, keep=3)
    assert sorted(p.name for p in folder.iterdir()) == [
        "snapshot-000000000008.h5", "snapshot-000000000010.h5", "snapshot-000000000012.h5"]
    with h5py.File(folder / "snapshot-000000000012.h5", "r") as f:
        assert f.attrs["msmcore_checkpoint"] == 1
        assert len(f.attrs["sha256"]) == 64
    assert read_snapshot(folder / "snapshot-000000000012.h5").windows_done == 12


def test_a_changed_layout_is_refused_naming_the_difference(tmp_path):
    folder = _rd_interrupted(tmp_path, crash_window=3)

    def other(shape: int = 100, key: str = "kinetics.network", name: str = "micro",
              interpolate: bool = False) -> msm.Coupling:
        c = msm.Coupling()
        c.add("macro", "fluid.diffusion", shape=(shape,), spacing=rd.DX, D=rd.D, dt=rd.MACRO_DT,
              method="explicit", boundary="copy-increment", initial=1e-20)
        if key == "kinetics.network":
            c.add(name, key, shape=(shape,), model=f"J: U -> ; k*U; k = {rd.K}", dt=rd.MICRO_DT)
        else:
            c.add(name, key, shape=(shape,), spacing=rd.DX, D=rd.D, dt=rd.MICRO_DT, method="explicit")
        c.connect("macro.state_out", f"{name}.state_in")
        c.connect(f"{name}.state_out", "macro.state_in", interpolate=interpolate)
        return c

    def scheme(micro: str = "micro") -> msm.Scheme:
        return msm.MacroMicro(macro="macro", micro=micro, horizon=rd.HORIZON)

    with pytest.raises(msm.ConfigurationError, match=r"port 'macro.state_out' has shape \[101\] now but \[100\]"):
        other(shape=101).run(until=rd.T_END, scheme=scheme(), quiet=True, resume=folder)
    with pytest.raises(msm.ConfigurationError, match=r"component 'micro' is kinetics.network in the snapshot but "
                                                     r"fluid.diffusion now"):
        other(key="fluid.diffusion").run(until=rd.T_END, scheme=scheme(), quiet=True, resume=folder)
    with pytest.raises(msm.ConfigurationError, match=r"component 'micro' \(kinetics.network\) is in the snapshot "
                                                     r"but not in the coupling"):
        other(name="kin").run(until=rd.T_END, scheme=scheme("kin"), quiet=True, resume=folder)
    c, _ = rd.build()
    with pytest.raises(msm.ConfigurationError, match="the window is"):
        c.run(until=rd.T_END, scheme=msm.MacroMicro(macro="macro", micro="micro", horizon=rd.HORIZON,
                                                     window=2 * rd.MACRO_DT), quiet=True, resume=folder)
    with pytest.raises(msm.ConfigurationError, match="the scheme is 'Serial' now but 'MacroMicro'"):
        c.run(until=rd.T_END, scheme=msm.Serial(window=rd.MACRO_DT, order=["macro", "micro"]), quiet=True,
              resume=folder)
    with pytest.raises(msm.ConfigurationError, match=r"that run started at t=0.0, this one at start=1e-06"):
        c.run(until=rd.T_END, scheme=msm.MacroMicro(macro="macro", micro="micro", horizon=rd.HORIZON),
              start=1e-6, quiet=True, resume=folder)
    c = other(interpolate=True)
    with pytest.raises(msm.ConfigurationError, match=r"connections differ: in the snapshot only "
                                                     r"\['micro.state_out -> macro.state_in'\]"):
        c.run(until=rd.T_END, scheme=scheme(), quiet=True, resume=folder)


class OwnLoop(msm.MacroMicro):
    """A scheme that counts its windows itself, from the run's start (not through Runner.windows())."""

    def run(self, runner):
        t = runner.start
        for t_end in msm.schemes.window_ends(runner.start, runner.until, rd.MACRO_DT):
            runner.deliver(self.micro)
            runner.components[self.micro].t = t
            runner.advance(self.micro, t + self.horizon)
            runner.deliver(self.macro)
            runner.advance(self.macro, t_end)
            runner.sync(t_end)
            t = t_end


def test_wallclock_snapshots_and_schemes_that_cannot_resume(tmp_path, rd_full):
    c, _ = rd.build()
    own = OwnLoop(macro="macro", micro="micro", horizon=rd.HORIZON)
    res = c.run(until=10 * rd.MACRO_DT, scheme=own, quiet=True,
                checkpoint=msm.Checkpoints(wallclock=1e-9, keep=100, path=tmp_path / "wall"))
    assert len(snapshot_files(tmp_path / "wall")) == 10  # a nanosecond passes in every window
    assert res["macro"].equals(rd_full["macro"].isel(time=slice(0, 11)))
    with pytest.raises(msm.CouplingError, match=r"OwnLoop does not step through Runner.windows\(\)"):
        c.run(until=rd.T_END, scheme=own, quiet=True, resume=tmp_path / "wall")


def test_checkpoint_arguments_are_validated(tmp_path):
    for kwargs, pattern in (({"every": 0.0}, r"every=\.\.\.\) must be a positive"),
                            ({"wallclock": -1}, r"wallclock=\.\.\.\) must be a positive"),
                            ({"keep": 0}, r"keep=\.\.\.\) must be a whole number >= 1"),
                            ({"keep": 1.5}, "keep"), ({"path": ""}, "folder path")):
        with pytest.raises(msm.ConfigurationError, match=pattern):
            msm.Checkpoints(**kwargs)
    (tmp_path / "file").write_text("x")
    with pytest.raises(msm.ConfigurationError, match="is not a folder"):
        msm.Checkpoints(path=tmp_path / "file")
    c, scheme = rd.build()
    with pytest.raises(msm.ConfigurationError, match=r"checkpoint=\.\.\.\) must be msm.Checkpoints"):
        c.run(until=rd.T_END, scheme=scheme, checkpoint="run.ckpt")
    with pytest.raises(CheckpointError, match="no such snapshot file or checkpoint folder"):
        c.run(until=rd.T_END, scheme=scheme, resume=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="holds no snapshot"):
        c.run(until=rd.T_END, scheme=scheme, resume=tmp_path / "empty")


class Opaque(msm.Component):
    """A component whose declared state holds an object a checkpoint cannot store."""

    state_attributes = ("memo",)
    dt = msm.Setting(float, default=0.1)

    def declare_ports(self):
        return [msm.Port.output("u_out", 2)]

    def initialize(self):
        self.memo = {"ok": [1.0, np.zeros(2)], "bad": [0, object()]}

    def step(self, dt):
        self.port_array("u_out")[:] += dt


class Undeclared(msm.Component):
    dt = msm.Setting(float, default=0.1)

    def declare_ports(self):
        return [msm.Port.output("u_out", 2)]

    def step(self, dt):
        pass


def test_states_a_snapshot_cannot_store_are_refused_before_step_1_naming_the_key_path(tmp_path):
    msm.register_component("test.opaque_ckpt", Opaque)
    msm.register_component("test.undeclared_ckpt", Undeclared)
    c = msm.Coupling()
    c.add("odd", "test.opaque_ckpt")
    with pytest.raises(StateEncodingError, match=r"component 'odd'.*\['attributes'\]\['memo'\]\['bad'\]\[1\] "
                                                 r"holds a builtins.object"):
        c.run(until=1.0, quiet=True, checkpoint=msm.Checkpoints(path=tmp_path / "ck"))
    assert snapshot_files(tmp_path / "ck") == []
    c = msm.Coupling()
    c.add("plain", "test.undeclared_ckpt")
    with pytest.raises(msm.ConfigurationError, match=r"plain \(Undeclared\) declare\(s\) no state"):
        c.run(until=1.0, quiet=True, checkpoint=msm.Checkpoints(path=tmp_path / "ck"))


# -- partitioned heat with IQN-ILS (Implicit, columns reused across windows) ------------------
def _heat_scheme() -> msm.Implicit:
    return msm.Implicit(heat.WINDOW, order=["left", "right"], acceleration=msm.IQNILS(0.1, reuse=8),
                        rel_tol=1e-12, abs_tol=1e-14, max_iterations=100)


@pytest.fixture(scope="module")
def heat_full() -> msm.Result:
    return heat.build().run(until=heat.T_END, scheme=_heat_scheme(), quiet=True)


def _heat_interrupted(tmp_path: Path) -> Path:
    c = heat.build()
    crash_after(c, "right", 0.45)
    with pytest.raises(msm.CouplingError, match="injected failure"):
        c.run(until=heat.T_END, scheme=_heat_scheme(), quiet=True,
              checkpoint=msm.Checkpoints(every=heat.WINDOW, path=tmp_path / "heat.ckpt"))
    return tmp_path / "heat.ckpt"


def test_partitioned_heat_with_iqn_ils_resumes_bit_for_bit(tmp_path, heat_full):
    folder = _heat_interrupted(tmp_path)
    snap = read_snapshot(snapshot_files(folder)[0])
    assert snap.windows_done == 4
    columns = snap.scheme["acceleration"]["_columns"]
    assert len(columns) > 0 and {k for _, _, k in columns} <= {0, 1, 2, 3}  # V/W of earlier windows
    resumed = heat.build().run(until=heat.T_END, scheme=_heat_scheme(), quiet=True, resume=folder)
    assert_same(resumed, heat_full)
    assert resumed.info["iterations"] == heat_full.info["iterations"]


def test_partitioned_heat_resumed_without_the_iqn_ils_history_differs(tmp_path, heat_full, monkeypatch):
    folder = _heat_interrupted(tmp_path)
    restore = msm.IQNILS.restore_checkpoint_state

    def forgetful(self: msm.IQNILS, state: dict[str, Any]) -> None:
        restore(self, state)
        self._columns = []  # as a restart that keeps x but not V and W

    monkeypatch.setattr(msm.IQNILS, "restore_checkpoint_state", forgetful)
    resumed = heat.build().run(until=heat.T_END, scheme=_heat_scheme(), quiet=True, resume=folder)
    assert resumed.info["iterations"] != heat_full.info["iterations"]
    assert not np.array_equal(resumed["left"]["temperature_out"].values, heat_full["left"]["temperature_out"].values)


def test_aitken_resumes_bit_for_bit(tmp_path):
    def scheme() -> msm.Implicit:
        return msm.Implicit(heat.WINDOW, order=["left", "right"], acceleration=msm.Aitken(0.5), rel_tol=1e-12,
                            abs_tol=1e-14, max_iterations=100)

    full = heat.build().run(until=0.6, scheme=scheme(), quiet=True)
    c = heat.build()
    crash_after(c, "left", 0.25)
    with pytest.raises(msm.CouplingError):
        c.run(until=0.6, scheme=scheme(), quiet=True, checkpoint=msm.Checkpoints(path=tmp_path / "a"))
    resumed = heat.build().run(until=0.6, scheme=scheme(), quiet=True, resume=tmp_path / "a")
    assert_same(resumed, full)


# -- the encoding ---------------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    """Equal in type, structure, dtype and bits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return math.copysign(1.0, a) == math.copysign(1.0, b) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


_dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_, np.complex128])
_arrays = _dtypes.flatmap(lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
_scalars = _dtypes.flatmap(lambda d: hnp.from_dtype(np.dtype(d))).map(lambda v: np.asarray(v)[()])
_hashable = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.binary(max_size=8))
_leaves = st.one_of(_hashable, st.floats(allow_nan=True), _arrays, _scalars)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.tuples(st.integers(), st.text(max_size=3))),
                        children, max_size=4),
        st.frozensets(_hashable, max_size=4), st.sets(st.integers(), max_size=4)),
    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_encoding_round_trips_nested_states_exactly(tree):
    with h5py.File("mem.h5", "w", driver="core", backing_store=False, track_order=True) as f:
        written, read = Digest(), Digest()
        encode(f, "state", tree, "a state", written)
        back = decode(f["state"], read)
        assert read.hexdigest() == written.hexdigest()
    assert _same(back, tree), (tree, back)


def test_encoding_refuses_what_it_cannot_store():
    with h5py.File("mem.h5", "w", driver="core", backing_store=False) as f:
        for bad, shown in ((np.array(["a"]), "dtype <U1"), (np.array([object()]), "dtype object"),
                           ({"k": lambda: 0}, r"\['k'\] holds a builtins.function"),
                           ([1, {"x": {2j}}], r"\[1\]\['x'\]\[0\] holds a builtins.complex"),
                           ({"d": collections.defaultdict(list)}, r"\['d'\] holds a collections.defaultdict"),
                           (np.ma.masked_array([1.0], mask=[True]), "MaskedArray"),
                           ((enum.IntEnum("Mode", "A"))(1), "Mode")):
            with pytest.raises(StateEncodingError, match=shown):
                encode(f, f"n{id(bad)}", bad, "the state of component 'c'")
