"""Results written as they come (`run(out=...)`, `msm run --out`): what survives a crash."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

import msmcore as msm
from msmcore.results import Result
from msmcore.stream import ResultsWriter, open_for_resume, samples_in, truncate_samples

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "reaction_diffusion"))


class Line(msm.Component):
    """Two values per point on a labelled mesh, and a scalar; out = (t + x, 10 t), total = sum."""

    state_attributes = ()
    dt = msm.Setting(float, default=0.5)
    fail_after = msm.Setting(float, default=-1.0)  # raise in the step that would pass this time

    def declare_ports(self):
        x = np.linspace(0.0, 1.0, 4)
        return [msm.Port.output("f_out", 4, components=2, units="K", coords={"x": x}, coord_units="m",
                                value_names=("a", "b"), value_dim="kind"),
                msm.Port.output("total", 1, units="K")]

    def step(self, dt):
        t = self.t + dt
        if 0 <= self.fail_after < t:
            raise RuntimeError(f"solver blew up at t={t}")
        f = self.port_array("f_out")
        f[:, 0] = t + np.linspace(0.0, 1.0, 4)
        f[:, 1] = 10.0 * t
        self.port_array("total")[...] = f.sum()


class Double(msm.Component):
    """u_out = 2 u_in."""

    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("u_in", 4, components=2, units="K"), msm.Port.output("u_out", 8, units="K")]

    def advance(self, t_end):
        self.port_array("u_out")[...] = 2.0 * self.port_array("u_in").reshape(-1)
        self.t = t_end


def script_coupling(fail_after: float = -1.0) -> msm.Coupling:
    c = msm.Coupling()
    c.add("line", Line, fail_after=fail_after)
    c.add("double", Double)
    c.connect("line.f_out", "double.u_in")
    return c


def groups(path: Path) -> dict[str, xr.Dataset]:
    with netCDF4.Dataset(path) as root:
        names = json.loads(root.getncattr("msmcore_components"))
    out = {}
    for name in names:
        with xr.open_dataset(path, group=name, engine="netcdf4", decode_times=False, decode_timedelta=False) as ds:
            out[name] = ds.load()
    return out


def root_attrs(path: Path) -> dict[str, object]:
    with netCDF4.Dataset(path) as root:
        return {k: root.getncattr(k) for k in root.ncattrs()}


def assert_same_file(streamed: Path, written: Path) -> None:
    """Every group identical (values, dims, coordinates, attrs); the root attributes equal, plus the status."""
    a, b = groups(streamed), groups(written)
    assert list(a) == list(b)
    for name in a:
        assert a[name].identical(b[name]), (name, a[name], b[name])
    ra, rb = root_attrs(streamed), root_attrs(written)
    assert ra.pop("msmcore_status") == "complete"
    assert rb.pop("msmcore_status", "complete") == "complete"  # to_netcdf writes none
    assert ra == rb


# -- (a) the streamed file is the file to_netcdf writes --------------------------------------

def test_streamed_file_equals_to_netcdf_for_a_script_coupling(tmp_path):
    res = script_coupling().run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True, out=tmp_path / "s.nc")
    assert_same_file(tmp_path / "s.nc", res.to_netcdf(tmp_path / "w.nc"))
    with netCDF4.Dataset(tmp_path / "s.nc") as root:
        assert root["line"].dimensions["time"].isunlimited() and len(root["line"].dimensions["time"]) == 7
    back = Result.from_netcdf(tmp_path / "s.nc")
    assert back.timings == res.timings and back.wall_s == res.wall_s and back.scheme == res.scheme
    assert list(back["line"]["kind"].values) == ["a", "b"] and back["line"]["x"].attrs["units"] == "m"


def test_streamed_file_equals_to_netcdf_for_reaction_diffusion(tmp_path):
    from rd import T_END, build

    coupling, scheme = build()
    res = coupling.run(until=T_END, scheme=scheme, quiet=True, out=tmp_path / "rd.nc")
    assert_same_file(tmp_path / "rd.nc", res.to_netcdf(tmp_path / "w.nc"))
    assert samples_in(tmp_path / "rd.nc")[0] == 51


def test_sample_every_and_flush_every_give_the_same_file(tmp_path):
    out = msm.ResultsFile(tmp_path / "s.nc", flush_every=1)
    res = script_coupling().run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True, out=out, sample_every=1.0)
    assert_same_file(tmp_path / "s.nc", res.to_netcdf(tmp_path / "w.nc"))
    assert samples_in(tmp_path / "s.nc") == (4, 3.0)


# -- (b) a component that fails: the samples so far are in the file ---------------------------

def test_a_failing_component_leaves_the_samples_up_to_its_window(tmp_path):
    full = script_coupling().run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True)
    with pytest.raises(msm.CouplingError, match="solver blew up at t=2"):
        script_coupling(fail_after=1.5).run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True,
                                            out=tmp_path / "f.nc")
    back = Result.from_netcdf(tmp_path / "f.nc")  # samples at t = 0, 0.5, 1, 1.5; the window to 2 failed
    for name in ("line", "double"):
        want = full[name].isel(time=slice(0, 4))
        got = back[name]
        got.attrs.pop("settings"), want.attrs.pop("settings")  # fail_after differs
        assert got.identical(want), (got, want)
    status = str(root_attrs(tmp_path / "f.nc")["msmcore_status"])
    assert status.startswith("failed: CouplingError: component 'line'") and "last sample at t=1.5" in status
    assert back.timings["line"]["advance_calls"] == 3.0  # what was known when it failed


# -- (e) an unwritable path is refused before step 1 -------------------------------------------

class Counted(msm.Component):
    """Counts its initialisations."""

    state_attributes = ()
    initialized = 0
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("u", 1)]

    def initialize(self):
        Counted.initialized += 1

    def step(self, dt):
        pass


@pytest.mark.parametrize("bad", ["missing-folder", "a-folder"])
def test_unwritable_out_is_refused_before_any_component_starts(tmp_path, bad):
    c = msm.Coupling()
    c.add("c", Counted)
    Counted.initialized = 0
    target = tmp_path / "nope" / "r.nc" if bad == "missing-folder" else tmp_path
    with pytest.raises(msm.ConfigurationError, match=f"cannot write results to {target}: ") as info:
        c.run(until=2.0, quiet=True, out=target)
    assert "run(out=...)" in str(info.value)
    assert Counted.initialized == 0
    with pytest.raises(msm.ConfigurationError, match="must be a file path or msm.ResultsFile"):
        c.run(until=2.0, quiet=True, out=3)  # type: ignore[arg-type]
    with pytest.raises(msm.ConfigurationError, match=r"flush_every=0\) must be a whole number >= 1"):
        msm.ResultsFile(tmp_path / "r.nc", flush_every=0)
    with pytest.raises(msm.ConfigurationError, match=r"flush_seconds=-1\) must be a finite number"):
        msm.ResultsFile(tmp_path / "r.nc", flush_seconds=-1)
    c.run(until=2.0, quiet=True, out=tmp_path / "fine.nc")
    assert Counted.initialized == 1


# -- resume: continue a file after sample k ------------------------------------------------------

class Replay:
    """A stand-in Recorder replaying samples of a finished result, one at a time."""

    def __init__(self, result: Result, start: int) -> None:
        self.result = result
        self.times = [float(t) for t in result["line"]["time"].values[:start]]
        self.time_units = "s"

    def next(self) -> None:
        self.times.append(float(self.result["line"]["time"].values[len(self.times)]))

    def latest(self):
        i = len(self.times) - 1
        return {(n, p): self.result[n][p].values[i] for n in self.result for p in self.result[n].data_vars}


def test_a_file_continues_after_sample_k_as_if_never_interrupted(tmp_path):
    res = script_coupling().run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True, out=tmp_path / "full.nc")
    part = tmp_path / "part.nc"
    shutil.copy(tmp_path / "full.nc", part)
    assert truncate_samples(part, 3) == ["line", "double"]
    assert samples_in(part) == (3, 1.0)
    for name, ds in groups(part).items():
        assert ds.identical(groups(tmp_path / "full.nc")[name].isel(time=slice(0, 3)))
    assert list(tmp_path.glob(".part.nc.*")) == []  # the temporary file is gone
    writer = open_for_resume(part, 2, scheme=res.scheme)  # the snapshot had 2 samples: drop the third too
    replay = Replay(res, 2)
    for _ in range(5):
        replay.next()
        writer(replay)  # type: ignore[arg-type]
    writer.close(res)
    assert_same_file(part, tmp_path / "full.nc")


def test_continuing_needs_the_kept_samples_and_the_next_index(tmp_path):
    res = script_coupling().run(until=1.0, scheme=msm.Serial(window=0.5), quiet=True, out=tmp_path / "r.nc")
    with pytest.raises(msm.ConfigurationError, match=r"after sample 5: it holds only 3; give the --out file"):
        truncate_samples(tmp_path / "r.nc", 5)
    with pytest.raises(msm.ConfigurationError, match="cannot continue the results file .*missing.nc"):
        truncate_samples(tmp_path / "missing.nc", 1)
    writer = ResultsWriter(msm.ResultsFile(tmp_path / "r.nc"))
    writer.continue_after(1)
    replay = Replay(res, 2)  # the run is one sample further than the file
    with pytest.raises(msm.MSMError, match="the run is at sample 1 but the file holds 1|the run is at sample 2"):
        replay.next()
        writer(replay)  # type: ignore[arg-type]


# -- (c, d) msm run killed by Ctrl-C or SIGKILL -------------------------------------------------

SLOW = '''\
import time
import msmcore as msm


class Slow(msm.Component):
    """u = (t, 2 t), 0.05 s of wall time per step."""

    state_attributes = ()
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("u", 2)]

    def step(self, dt):
        time.sleep(0.05)
        self.port_array("u")[...] = [self.t + dt, 2 * (self.t + dt)]
'''


def start_slow_run(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "slow.yaml").write_text(textwrap.dedent("""\
        components:
          s:
            component: {python: slow.py:Slow}
        run:
          until: 10000
        """))
    out = tmp_path / "out.nc"
    proc = subprocess.Popen([sys.executable, "-m", "msmcore", "run", "slow.yaml", "--out", str(out), "--quiet"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if samples_in(out)[0] >= 4:
                return proc, out
        except (OSError, KeyError, ValueError):  # not created yet, or caught during a flush
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run wrote no samples within 60 s")


def check_slow_file(out: Path, at_least: int) -> int:
    back = Result.from_netcdf(out)
    u = back["s"]["u"].values
    n = len(u)
    assert n >= at_least
    np.testing.assert_array_equal(back["s"]["time"].values, np.arange(n, dtype=float))
    np.testing.assert_array_equal(u[1:], np.stack([np.arange(1, n), 2 * np.arange(1, n)], axis=1).astype(float))
    return n


def test_ctrl_c_leaves_a_readable_file_and_one_line(tmp_path):
    proc, out = start_slow_run(tmp_path, {})
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    n = check_slow_file(out, 4)
    *earlier, last = stderr.splitlines()
    assert last == (f"msm: interrupted (Ctrl-C) during `msm run`; the results sampled until then are in {out} "
                    f"({n} sample(s), the last at t={n - 1})")
    # The only other lines allowed: this test's own polling of the file can catch a flush (then the
    # samples wait for the next one, said once per missed flush); no traceback, nothing else.
    assert all(line.startswith(f"msm: WARNING: msmcore.stream: results file {out} is busy") for line in earlier), stderr
    assert str(root_attrs(out)["msmcore_status"]).startswith("interrupted (Ctrl-C); last sample at t=")


def test_sigkill_leaves_a_file_readable_up_to_the_last_flush(tmp_path):
    proc, out = start_slow_run(tmp_path, {"MSM_FLUSH_EVERY": "1"})
    seen = samples_in(out)[0]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    check_slow_file(out, seen)
    assert root_attrs(out)["msmcore_status"] == "running"  # it never got to say how it ended


# -- a reader holding the file open: the writer keeps the samples for a later flush ----------------

class Peek(msm.Component):
    """Holds the results file open for reading from t = 1 to t = 2 (as a monitoring tool might)."""

    state_attributes = ()
    dt = msm.Setting(float, default=0.5)
    path = msm.Setting(str, default="")
    handle = None

    def declare_ports(self):
        return [msm.Port.output("u", 1)]

    def step(self, dt):
        t = self.t + dt
        if t == 1.0:
            Peek.handle = netCDF4.Dataset(self.path)
        if t == 2.0:
            Peek.handle.close()
        self.port_array("u")[...] = t


def test_a_busy_file_delays_the_flush_but_loses_nothing(tmp_path, caplog):
    out = tmp_path / "busy.nc"
    c = msm.Coupling()
    c.add("p", Peek, path=str(out))
    with caplog.at_level("WARNING", logger="msmcore.stream"):
        res = c.run(until=3.0, scheme=msm.Serial(window=0.5), quiet=True,
                    out=msm.ResultsFile(out, flush_seconds=0.0))  # try to flush at every sample
    busy = [r for r in caplog.records if "is busy" in r.getMessage()]
    assert len(busy) >= 1 and "sample(s) wait for the next flush" in busy[0].getMessage()
    assert_same_file(out, res.to_netcdf(tmp_path / "w.nc"))


def test_flush_policy_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MSM_FLUSH_EVERY", "3")
    monkeypatch.setenv("MSM_FLUSH_SECONDS", "0.25")
    assert msm.ResultsFile.from_argument(str(tmp_path / "r.nc")) == msm.ResultsFile(tmp_path / "r.nc", 3, 0.25)
    monkeypatch.setenv("MSM_FLUSH_EVERY", "often")
    with pytest.raises(msm.ConfigurationError, match="MSM_FLUSH_EVERY='often' must be a whole number; unset it"):
        msm.ResultsFile.from_argument(tmp_path / "r.nc")
