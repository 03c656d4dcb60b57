"""Coupling: wiring validation, explicit schemes, macro–micro, failures, results."""

from __future__ import annotations

import numpy as np
import pytest
from coupling_parts import Broken, Counter, Echo

import msmcore as msm


def pair(**echo):
    c = msm.Coupling()
    c.add("a", Counter)
    c.add("b", Echo, **echo)
    return c


# -- wiring errors, caught when connecting -----------------------------------------
def test_unknown_component_and_port_name_suggestions():
    c = pair()
    with pytest.raises(msm.CouplingError, match="no component 'aa' in this coupling \\(components: a, b\\)"):
        c.connect("aa.count", "b.value")
    with pytest.raises(msm.CouplingError, match="has no port 'cont'; its ports: count \\(out\\).*Did you mean 'count'"):
        c.connect("a.cont", "b.value")
    with pytest.raises(msm.CouplingError, match="must look like '<component>.<port>'"):
        c.connect("a", "b.value")


def test_wrong_direction():
    c = pair()
    with pytest.raises(msm.CouplingError, match="'b.value' is an input port; a connection goes from an output"):
        c.connect("b.value", "a.count")
    with pytest.raises(msm.CouplingError, match="'b.last' is an output port; connect it to an input port \\(inputs of 'b': value\\)"):  # noqa: E501 - the whole message, as the code writes it
        c.connect("a.count", "b.last")


def test_size_mismatch():
    c = pair(n=4)
    with pytest.raises(msm.CouplingError, match="sizes differ .*\\(3,\\) points x 1 values.*expects \\(4,\\)"):
        c.connect("a.count", "b.value")


def test_units_mismatch_and_conversion():
    c = msm.Coupling()
    c.add("a", Counter, units="mol/L")
    c.add("b", Echo, units="s")
    with pytest.raises(msm.CouplingError, match="units mismatch.*'mol/L'.*'s'.*different dimensions"):
        c.connect("a.count", "b.value")
    c = msm.Coupling()
    c.add("a", Counter, units="mol/L")
    c.add("b", Echo, units="mol/m^3")
    assert c.connect("a.count", "b.value").factor == 1000.0
    res = c.run(until=3.0, scheme=msm.Serial(window=1.0))
    assert c.components["b"].seen == [1000.0, 2000.0, 3000.0]  # converted on the way
    assert res["b"]["last"].attrs["units"] == "mol/m^3"


def test_input_connected_twice_and_unconnected_input():
    c = pair()
    c.add("a2", Counter)
    c.connect("a.count", "b.value")
    with pytest.raises(msm.CouplingError, match="'b.value' is already connected \\(from a.count\\)"):
        c.connect("a2.count", "b.value")
    c2 = pair()
    with pytest.raises(msm.CouplingError, match="required input\\(s\\) left unconnected: b.value"):
        c2.run(until=1.0)


def test_bad_names_and_settings_fail_at_add_time():
    c = msm.Coupling()
    with pytest.raises(msm.ConfigurationError, match="invalid component name 'a.b'"):
        c.add("a.b", Counter)
    with pytest.raises(msm.ConfigurationError, match="setting 'n' of component 'x' must be int"):
        c.add("x", Counter, n="many")
    c.add("a", Counter)
    with pytest.raises(msm.ConfigurationError, match="already in this coupling"):
        c.add("a", Counter)
    with pytest.raises(msm.UnknownComponentError, match="unknown component 'no.such'"):
        c.add("z", "no.such")


def test_cycle_that_serial_cannot_order():
    c = msm.Coupling()
    c.add("p", Echo)
    c.add("q", Echo)
    c.connect("p.last", "q.value")
    c.connect("q.last", "p.value")
    with pytest.raises(msm.CouplingError, match="cycle p -> q -> p that a serial scheme cannot order"):
        c.run(until=1.0, scheme=msm.Serial())
    c.run(until=1.0, scheme=msm.Serial(order=["q", "p"]))  # an explicit order resolves it
    c.run(until=1.0, scheme=msm.Parallel())


# -- schemes -------------------------------------------------------------------------------
def test_serial_reads_this_window_parallel_reads_previous():
    # Counter steps once per window (dt = window = 1): after window k it outputs k.
    serial = pair()
    serial.connect("a.count", "b.value")
    serial.run(until=4.0, scheme=msm.Serial(window=1.0))
    assert serial.components["b"].seen == [1.0, 2.0, 3.0, 4.0]  # Gauss-Seidel: a first
    assert serial.components["b"].received == ["value"] * 5  # once after initialize, then per window
    parallel = pair()
    parallel.connect("a.count", "b.value")
    parallel.run(until=4.0, scheme=msm.Parallel(window=1.0))
    assert parallel.components["b"].seen == [0.0, 1.0, 2.0, 3.0]  # Jacobi: previous window


def test_subcycling_inside_windows():
    c = msm.Coupling()
    c.add("a", Counter, dt=0.25)
    c.add("b", Echo)
    c.connect("a.count", "b.value")
    c.run(until=2.0, scheme=msm.Serial(window=1.0))
    assert c.components["b"].seen == [4.0, 8.0]  # four sub-steps of 0.25 per window


def test_macro_micro_resets_micro_clock_and_runs_its_horizon():
    c = msm.Coupling()
    c.add("macro", Echo, dt=1.0)
    c.add("micro", Counter, dt=0.1)
    c.connect("micro.count", "macro.value")
    with pytest.raises(msm.CouplingError, match="needs connections both ways"):
        c.run(until=3.0, scheme=msm.MacroMicro("macro", "micro", horizon=0.5))
    with pytest.raises(msm.CouplingError, match="micro='mikro' is not a component"):
        c.run(until=3.0, scheme=msm.MacroMicro("macro", "mikro", horizon=0.5))


# -- failures ------------------------------------------------------------------------------
def test_exception_in_component_names_component_and_time():
    c = msm.Coupling()
    c.add("solver", Broken, at=2.5)
    with pytest.raises(msm.CouplingError, match="component 'solver' \\(Broken\\) failed in advance to t=3 at t=2: RuntimeError: solver diverged"):  # noqa: E501 - the whole message, as the code writes it
        c.run(until=5.0, scheme=msm.Serial(window=1.0))


def test_nan_output_names_component_port_time_and_index():
    c = msm.Coupling()
    c.add("solver", Broken, mode="nan", at=2.0)
    with pytest.raises(msm.CouplingError, match="'solver' \\(Broken\\) produced 1 non-finite value\\(s\\) on port 'out' at t=2 \\(first at index \\(1,\\)\\)"):  # noqa: E501 - the whole message, as the code writes it
        c.run(until=5.0, scheme=msm.Serial(window=1.0))


# -- results --------------------------------------------------------------------------------
def test_result_datasets_sampling_timings_and_netcdf_round_trip(tmp_path):
    c = pair()
    c.connect("a.count", "b.value")
    res = c.run(until=6.0, scheme=msm.Serial(window=1.0), sample_every=2.0)
    ds = res["a"]
    np.testing.assert_array_equal(ds["time"], [0.0, 2.0, 4.0, 6.0])
    np.testing.assert_array_equal(ds["count"].isel(x=0), [0.0, 2.0, 4.0, 6.0])
    np.testing.assert_array_equal(ds["x"], [0.0, 0.5, 1.0])
    assert ds["count"].dims == ("time", "x") and ds.attrs["key"] == "Counter"
    assert res.timings["b"]["advance_calls"] == 6 and res.timings["b"]["exchange_s"] > 0
    assert "compute s" in res.summary()
    path = res.to_netcdf(tmp_path / "out.nc")
    back = msm.Result.from_netcdf(path)
    assert list(back) == ["a", "b"]
    for name in ("a", "b"):
        xr_equal = back[name].equals(res[name].drop_attrs(deep=False).assign_attrs(back[name].attrs))
        assert xr_equal, name
    assert back.timings["b"]["advance_calls"] == 6
    with pytest.raises(msm.ConfigurationError, match="no component 'c' in this result"):
        res["c"]


def test_run_arguments_are_checked():
    c = pair()
    c.connect("a.count", "b.value")
    with pytest.raises(msm.ConfigurationError, match="must end after start"):
        c.run(until=0.0)
    with pytest.raises(msm.ConfigurationError, match=r"sample_every=...\) must be positive"):
        c.run(until=1.0, sample_every=0)


def test_progress_bar_appears_only_after_its_delay():
    import io

    from msmcore.progress import ProgressBar

    quiet = io.StringIO()
    bar = ProgressBar(0.0, 10.0, delay=60.0, stream=quiet)
    bar.update(5.0)
    bar.close()
    assert quiet.getvalue() == ""  # a short run stays silent
    shown = io.StringIO()
    bar = ProgressBar(0.0, 10.0, delay=0.0, stream=shown)
    bar.update(5.0)
    bar.close()
    assert " 50.0%" in shown.getvalue() and "t=5" in shown.getvalue() and shown.getvalue().endswith("\n")
    assert shown.getvalue().count("\n") == 1  # not a terminal: one line per 10 %, no redraws
    silent = io.StringIO()
    bar = ProgressBar(0.0, 10.0, delay=0.0, stream=silent, quiet=True)
    bar.update(5.0)
    assert silent.getvalue() == ""


class Pair(msm.Component):
    """Two values per point: (a, b) = (count, 10 * count)."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("ab_in", 3, components=2, required=False),
                msm.Port.output("ab_out", 3, components=2)]

    def step(self, dt):
        out = self.port_array("ab_out")
        out[:, 0] += 1.0
        out[:, 1] += 10.0


def test_component_selection_between_multi_and_single_component_ports():
    c = msm.Coupling()
    c.add("p", Pair)
    c.add("e", Echo)
    c.add("q", Pair)
    with pytest.raises(msm.CouplingError, match="sizes differ .* 2 values.*pick components"):
        c.connect("p.ab_out", "e.value")
    with pytest.raises(msm.CouplingError, match="source_component=2, but the port has 2 value"):
        c.connect("p.ab_out", "e.value", source_component=2)
    c.connect("p.ab_out", "e.value", source_component=1)       # b of p -> e
    c.connect("e.last", "q.ab_in", target_component=0)          # e -> a of q
    c.connect("p.ab_out", "q.ab_in", source_component=0, target_component=1)  # a of p -> b of q
    with pytest.raises(msm.CouplingError, match="already connected"):
        c.connect("e.last", "q.ab_in", target_component=0)
    c.run(until=2.0, scheme=msm.Serial(window=1.0, order=["p", "e", "q"]))
    assert c.components["e"].seen == [10.0, 20.0]
    np.testing.assert_array_equal(c.components["q"].port_array("ab_in"), [[20.0, 2.0]] * 3)


class Line(msm.Component):
    """A field on points x = 0, 0.25, ..., 1 with two values per point: (x, -x)."""

    def declare_ports(self):
        xs = np.linspace(0.0, 1.0, 5)
        return [msm.Port.output("f_out", 5, components=2, coords={"x": xs})]

    def initialize(self):
        out = self.port_array("f_out")
        if out.size:  # under MPI, ranks other than the component's first hold nothing
            x = np.linspace(0.0, 1.0, 5)
            out[:] = np.column_stack([x, -x])

    def advance(self, t_end):
        self.t = t_end


class Probe(msm.Component):
    """Reads a scalar at x = 0.1, 0.6 and a 3-vector at x = 0.5."""

    def declare_ports(self):
        return [msm.Port.input("s_in", 2, coords={"x": np.array([0.1, 0.6])}),
                msm.Port.input("v_in", 1, components=3, coords={"x": np.array([0.5])})]

    def initialize(self):
        self.port_array("v_in")[:] = 7.0  # components the connection does not write stay 7

    def advance(self, t_end):
        self.t = t_end


def test_mapping_combined_with_component_selection():
    c = msm.Coupling()
    c.add("line", Line)
    c.add("probe", Probe)
    # Linear interpolation of component 1 (-x) at x = 0.1, 0.6: exactly -0.1, -0.6.
    c.connect("line.f_out", "probe.s_in", mapping="linear", source_component=1)
    # Component 0 (x) at x = 0.5 into component 2 of the 3-vector; components 0, 1 untouched.
    c.connect("line.f_out", "probe.v_in", mapping="linear", source_component=0, target_component=2)
    c.run(until=1.0, scheme=msm.Serial(window=1.0))
    np.testing.assert_allclose(c.components["probe"].port_array("s_in"), [-0.1, -0.6], rtol=1e-14)
    np.testing.assert_allclose(c.components["probe"].port_array("v_in"), [[7.0, 7.0, 0.5]], rtol=1e-14)
