"""Result files label what they hold: value names and dimension, mesh and time units — through NetCDF."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm
from msmcore.results import Recorder, Result


class Species(msm.Component):
    """Two species per cell on a 1D mesh in metres; a scalar field on the same mesh."""

    n = msm.Setting(int, default=3)
    dt = msm.Setting(float, default=1.0)
    names = msm.Setting(tuple, default=("A", "B"))
    state_attributes = ()

    def declare_ports(self):
        x = np.arange(self.n) * 0.25
        return [msm.Port.output("state_out", self.n, components=2, value_names=self.names, value_dim="species",
                                units="mol/m^3", coords={"x": x}, coord_units="m"),
                msm.Port.output("total_out", self.n, units="mol/m^3", coords={"x": x}, coord_units="m"),
                msm.Port.output("raw_out", self.n, components=2)]

    def initialize(self):
        self.port_array("state_out")[:] = [[1.0, 2.0]] * self.n

    def step(self, dt):
        s = self.port_array("state_out")
        s *= 0.5
        self.port_array("total_out")[:] = s.sum(axis=1)


def record(comp, times, time_units="s"):
    comp.initialize()
    rec = Recorder({"s": comp}, {"s": "Species"}, 0.0, None, time_units=time_units)
    for t in times:
        rec.sample(t)
        comp.step(1.0)
    return rec.datasets()


def test_value_names_dimension_and_units_label_the_dataset():
    ds = record(Species(), [0.0, 1.0])["s"]
    assert ds["state_out"].dims == ("time", "x", "species")
    assert ds["species"].values.tolist() == ["A", "B"]
    assert ds["x"].attrs["units"] == "m" and ds["x"].values.tolist() == [0.0, 0.25, 0.5]
    assert ds["time"].attrs == {"long_name": "coupling time", "units": "s"}
    assert ds["state_out"].sel(species="B").isel(time=0).values.tolist() == [2.0, 2.0, 2.0]
    assert ds["raw_out"].dims == ("time", "raw_out_dim0", "raw_out_component")  # defaults when not given
    assert ds["total_out"].dims == ("time", "x")  # the same mesh shares the dimension


def test_round_trip_through_netcdf_keeps_the_labels(tmp_path):
    datasets = record(Species(), [0.0, 1.0, 2.0], time_units="ms")
    res = Result(datasets, {"s": {"compute_s": 0.0, "exchange_s": 0.0, "advance_calls": 0.0}})
    assert res.time_units == "ms"  # read from the datasets
    back = Result.from_netcdf(res.to_netcdf(tmp_path / "r.nc"))
    ds = back["s"]
    assert back.time_units == "ms"
    assert ds["time"].attrs["units"] == "ms" and ds["time"].dtype == np.float64  # not decoded into timedeltas
    assert ds["time"].values.tolist() == [0.0, 1.0, 2.0]
    assert [str(v) for v in ds["species"].values] == ["A", "B"]
    assert ds["x"].attrs["units"] == "m"
    assert ds["state_out"].attrs["units"] == "mol/m^3"
    np.testing.assert_array_equal(ds["state_out"].values, datasets["s"]["state_out"].values)


def test_time_in_seconds_is_not_decoded_as_timedelta(tmp_path):
    res = Result(record(Species(), [0.0, 1.5]), {"s": {}})
    back = Result.from_netcdf(res.to_netcdf(tmp_path / "r.nc"))
    assert back["s"]["time"].values.tolist() == [0.0, 1.5] and back.time_units == "s"


class TwoMeshes(msm.Component):
    """Two output ports whose axis 'x' has different points: each keeps its own."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        X, Y = np.meshgrid(np.arange(3.0), np.arange(2.0), indexing="ij")
        return [msm.Port.output("fine", 4, coords={"x": np.linspace(0, 1, 4)}),
                msm.Port.output("coarse", 2, coords={"x": np.linspace(0, 1, 2)}),
                msm.Port.output("shifted", 4, coords={"x": np.linspace(0, 1, 4) + 1.0}),
                msm.Port.output("cloud", 3, coords={"points": np.arange(6.0).reshape(3, 2)}, coord_units="m"),
                msm.Port.output("line", 3, coords={"points": np.arange(3.0)}),
                msm.Port.output("curved", (3, 2), coords={"x": X + 0.1 * Y, "y": Y}, coord_units="m")]

    def step(self, dt):
        pass


def test_clashing_dimension_names_get_the_port_prefix_instead_of_an_xarray_error(tmp_path):
    ds = record(TwoMeshes(), [0.0])["s"]
    assert ds["fine"].dims == ("time", "x")
    assert ds["coarse"].dims == ("time", "coarse_x") and ds["coarse_x"].size == 2
    assert ds["shifted"].dims == ("time", "shifted_x") and ds["shifted_x"].values[0] == pytest.approx(1.0)
    assert ds["cloud_points"].shape == (3, 2) and ds["cloud_points"].attrs["units"] == "m"
    assert ds["line_points"].dims == ("line_dim0",)
    assert ds["curved"].dims == ("time", "curved_dim0", "curved_dim1")
    assert ds["curved_x"].dims == ("curved_dim0", "curved_dim1") and ds["curved_x"].attrs["units"] == "m"
    back = Result.from_netcdf(Result({"s": ds}, {"s": {}}).to_netcdf(tmp_path / "m.nc"))
    assert back["s"]["cloud_points"].values.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_coupling_time_units_argument():
    assert msm.Coupling(time_units="fs").time_units == "fs"
    assert msm.Coupling().time_units == "s"
    with pytest.raises(msm.ConfigurationError, match="time_units"):
        msm.Coupling(time_units="")


def test_a_run_records_the_couplings_time_units():
    c = msm.Coupling(time_units="ms")
    c.add("s", Species)
    res = c.run(until=2.0, scheme=msm.Serial(window=1.0), quiet=True)
    assert res["s"]["time"].attrs["units"] == "ms" and res.time_units == "ms"
