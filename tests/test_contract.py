"""The component contract the core enforces: no silent wrong values.

Each test here failed on the core before the contract was made explicit: the
values below are exact (small integers, unit factors that are powers of ten),
so every comparison is exact or at round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
from coupling_parts import Counter, Echo

import msmcore as msm


class Constant(msm.Component):
    """Outputs a constant ``value`` on ``n`` points."""

    state_attributes = ()
    n = msm.Setting(int, default=3)
    value = msm.Setting(float, default=1.0)
    units = msm.Setting(str, default="1")
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("out", self.n, units=self.units)]

    def initialize(self):
        self.port_array("out")[:] = self.value

    def step(self, dt):
        pass


class TwoValues(msm.Component):
    """An input of two values per point, recorded each advance; delivered() logged per receive."""

    state_attributes = ()
    n = msm.Setting(int, default=3)
    units = msm.Setting(str, default="mol/m^3")
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("c_in", self.n, components=2, units=self.units, required=False),
                msm.Port.output("c_out", self.n, components=2, units=self.units)]

    def initialize(self):
        self.port_array("c_in")[:] = 5.0  # what the component left in the values no connection writes
        self.masks: list[object] = []
        self.receives: list[str] = []

    def receive(self, port):
        self.receives.append(port)
        mask = self.delivered(port)
        self.masks.append(None if mask is None else mask.copy())

    def step(self, dt):
        self.port_array("c_out")[...] = self.port_array("c_in")


# -- 1. a units factor scales only the values its connection wrote ------------------------------
def test_units_factor_with_target_component_leaves_other_components_alone():
    c = msm.Coupling()
    c.add("src", Constant, units="mol/L")
    c.add("dst", TwoValues)
    assert c.connect("src.out", "dst.c_in", target_component=0).factor == 1000.0
    c.run(until=5.0, scheme=msm.Serial(window=1.0))
    # 1 mol/L = 1000 mol/m^3 into component 0; component 1 keeps the 5 it was left with (not 5e15).
    np.testing.assert_array_equal(c.components["dst"].port_array("c_in"), [[1000.0, 5.0]] * 3)


def test_two_connections_with_different_units_into_one_port():
    c = msm.Coupling()
    c.add("litre", Constant, units="mol/L", value=1.0)
    c.add("cubic", Constant, units="mol/m^3", value=2.0)
    c.add("dst", TwoValues)
    c.connect("litre.out", "dst.c_in", target_component=0)
    c.connect("cubic.out", "dst.c_in", target_component=1)
    c.run(until=3.0, scheme=msm.Serial(window=1.0))
    np.testing.assert_array_equal(c.components["dst"].port_array("c_in"), [[1000.0, 2.0]] * 3)


# -- 2. a component is told which values were delivered; receive once per port -------------------
def test_delivered_mask_and_one_receive_per_port():
    c = msm.Coupling()
    c.add("src", Constant)
    c.add("dst", TwoValues, units="1")
    c.connect("src.out", "dst.c_in", target_component=1)
    c.run(until=2.0, scheme=msm.Serial(window=1.0))
    dst = c.components["dst"]
    assert dst.receives == ["c_in"] * 3  # the initial exchange and two windows: one call each
    for mask in dst.masks:
        np.testing.assert_array_equal(mask, [[False, True]] * 3)
    # Fed whole, nothing is masked.
    c2 = msm.Coupling()
    c2.add("a", TwoValues, units="1")
    c2.add("b", TwoValues, units="1")
    c2.connect("a.c_out", "b.c_in")
    c2.run(until=1.0, scheme=msm.Serial(window=1.0))
    assert c2.components["b"].masks == [None, None]

    # Two connections that together write every value: nothing is masked either.
    c3 = msm.Coupling()
    c3.add("s0", Constant)
    c3.add("s1", Constant)
    c3.add("dst", TwoValues, units="1")
    c3.connect("s0.out", "dst.c_in", target_component=0)
    c3.connect("s1.out", "dst.c_in", target_component=1)
    c3.run(until=1.0, scheme=msm.Serial(window=1.0))
    assert c3.components["dst"].masks == [None, None]
    assert c3.components["dst"].receives == ["c_in", "c_in"]


# -- 3. same size, different meshes -------------------------------------------------------------------
class Mesh(msm.Component):
    """Ports on a 1D mesh whose coordinates are a setting."""

    state_attributes = ()
    xs = msm.Setting(tuple, default=(0.0, 0.5, 1.0))

    def declare_ports(self):
        x = np.asarray(self.xs, dtype=float)
        return [msm.Port.output("out", x.size, coords={"x": x}),
                msm.Port.input("inp", x.size, coords={"x": x}, required=False)]

    def advance(self, t_end):
        self.t = t_end


@pytest.mark.parametrize("target_xs", [
    (10.0, 10.5, 11.0),          # disjoint
    (0.0, 5.0, 10.0),            # ten times the spacing
    (1.0, 0.5, 0.0),             # the axis reversed
])
def test_same_shape_different_coordinates_is_refused(target_xs):
    c = msm.Coupling()
    c.add("a", Mesh)
    c.add("b", Mesh, xs=target_xs)
    with pytest.raises(msm.CouplingError, match=r"different meshes .*a.out: 3 points in \[0, 1\].*"
                                                  r"mapping='nearest', 'linear' or 'rbf'.*mapping='identity'"):
        c.connect("a.out", "b.inp")
    c.connect("a.out", "b.inp", mapping="identity")  # the explicit opt-out connects index to index


def test_same_coordinates_up_to_round_off_connect():
    c = msm.Coupling()
    c.add("a", Mesh, xs=(0.1 * 3, 0.7, 1.0))
    c.add("b", Mesh, xs=(0.3, 0.7, 1.0))  # 0.1 * 3 = 0.30000000000000004
    c.connect("a.out", "b.inp")
    c.add("plain", Echo)  # a port without coordinates connects as before
    c.connect("a.out", "plain.value")


# -- 4. a rebound port array is an error, not a silent stop ---------------------------------------------
class Rebinder(msm.Component):
    """Halves its output each step — by rebinding the attribute (the bug) or in place."""

    state_attributes = ()
    in_place = msm.Setting(bool, default=False)
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("u_out", 2)]

    def initialize(self):
        self.u = self.port_array("u_out")
        self.u[:] = 1.0

    def step(self, dt):
        if self.in_place:
            self.u *= 0.5
        else:
            self.u = self.u * 0.5


def test_rebinding_a_port_array_is_an_error():
    c = msm.Coupling()
    c.add("r", Rebinder)
    with pytest.raises(msm.CouplingError, match=r"component 'r' .*attribute 'u', which held the array of port "
                                                r"'u_out', was bound to a new object in advance\(\).*"
                                                r"self.u\[...\] = <new values>"):
        c.run(until=2.0, scheme=msm.Serial(window=1.0))
    c2 = msm.Coupling()
    c2.add("r", Rebinder, in_place=True)
    res = c2.run(until=2.0, scheme=msm.Serial(window=1.0))
    np.testing.assert_array_equal(res["r"]["u_out"].values[:, 0], [1.0, 0.5, 0.25])


class NewArray(msm.Component):
    """Replaces the array behind its port after initialize."""

    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.output("out", 2)]

    def advance(self, t_end):
        self._arrays["out"] = np.ones(2)
        self.t = t_end


def test_replacing_the_port_array_is_an_error():
    c = msm.Coupling()
    c.add("n", NewArray)
    with pytest.raises(msm.CouplingError, match=r"port_array\('out'\) returned a different array"):
        c.run(until=1.0, scheme=msm.Serial(window=1.0))


# -- 5. state is declared, or the component is refused where states are needed ------------------------
class Undeclared(msm.Component):
    """A component with a scalar it forgets to declare."""

    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.input("x_in", 1, required=False), msm.Port.output("x_out", 1)]

    def initialize(self):
        self.initialized = True

    def step(self, dt):
        self.port_array("x_out")[:] = 0.5 * self.port_array("x_in") + 1.0


class Declared(Undeclared):
    """The same, with a scalar, a list and a dict declared as its state."""

    state_attributes = ("count", "history", "meta")

    def initialize(self):
        self.count = 0
        self.history: list[float] = []
        self.meta = {"a": 1}

    def step(self, dt):
        super().step(dt)
        self.count += 1
        self.history.append(float(self.port_array("x_out")[0]))
        self.meta["a"] += 1


def test_implicit_refuses_undeclared_state_before_step_one():
    c = msm.Coupling()
    c.add("u", Undeclared)
    c.add("d", Declared)
    c.connect("u.x_out", "d.x_in")
    c.connect("d.x_out", "u.x_in")
    with pytest.raises(msm.CouplingError, match=r"Implicit repeats windows .*u \(Undeclared\) declare\(s\) no "
                                                r"state; give each class state_attributes"):
        c.run(until=1.0, scheme=msm.Implicit(window=1.0))
    assert not hasattr(c.components["u"], "initialized")  # refused before initialize
    with pytest.raises(msm.ConfigurationError, match="declares no state"):
        Undeclared().save_state()
    assert Declared.declares_state() and not Undeclared.declares_state()


def test_default_state_restores_scalars_lists_and_dicts():
    comp = Declared()
    comp.initialize()
    comp.advance(2.0)
    snapshot = comp.save_state()
    expected = (comp.count, list(comp.history), dict(comp.meta), comp.port_array("x_out").copy(), comp.t)
    comp.advance(5.0)
    comp.restore_state(snapshot)
    assert (comp.count, comp.history, comp.meta, comp.t) == (expected[0], expected[1], expected[2], expected[4])
    np.testing.assert_array_equal(comp.port_array("x_out"), expected[3])
    comp.advance(5.0)  # the snapshot is not aliased by the restored state
    assert snapshot["attributes"]["count"] == 2 and snapshot["attributes"]["history"] == [1.0, 1.0]


class Sized(msm.Component):
    """An output of n points; its port array is its whole state."""

    state_attributes = ()
    n = msm.Setting(int, default=4)

    def declare_ports(self):
        return [msm.Port.output("x_out", self.n)]


def test_restoring_a_snapshot_of_another_size_is_refused_not_broadcast():
    small, big = Sized(n=1), Sized(n=4)
    small.name, big.name = "small", "big"
    for comp in (small, big):
        comp.initialize()
    small.port_array("x_out")[...] = 7.0
    snapshot = small.save_state()
    with pytest.raises(msm.ConfigurationError, match=r"component 'big' \(Sized\): cannot restore port 'x_out': "
                                                     r"the snapshot holds shape \(1,\), the port now has \(4,\)"):
        big.restore_state(snapshot)  # numpy alone would broadcast the one value into all four points
    np.testing.assert_array_equal(big.port_array("x_out"), 0.0)
    snapshot["ports"]["y_out"] = snapshot["ports"].pop("x_out")
    with pytest.raises(msm.ConfigurationError, match="cannot restore port 'y_out': it has no such port now "
                                                     r"\(its ports: x_out\)"):
        small.restore_state(snapshot)


def test_implicit_with_declared_states_converges_to_the_fixed_point():
    # x = 0.5 y + 1, y = 0.5 x + 1: the fixed point is x = y = 2 (exact, by substitution).
    c = msm.Coupling()
    c.add("a", Declared)
    c.add("b", Declared)
    c.connect("a.x_out", "b.x_in")
    c.connect("b.x_out", "a.x_in")
    res = c.run(until=1.0, scheme=msm.Implicit(window=1.0, acceleration=msm.Aitken(), rel_tol=1e-12))
    assert res["a"]["x_out"].values[-1, 0] == pytest.approx(2.0, rel=1e-10)
    assert c.components["a"].count == 1  # restored before every iteration, stepped once at the end


# -- 6. a coupling runs again and again, identically ----------------------------------------------------
def test_a_coupling_runs_twice_with_identical_results():
    c = msm.Coupling()
    c.add("a", Counter)
    c.add("b", Echo)
    c.connect("a.count", "b.value")
    first = c.run(until=3.0, scheme=msm.Serial(window=1.0))
    second = c.run(until=3.0, scheme=msm.Serial(window=1.0))
    assert first["b"].equals(second["b"]) and first["a"].equals(second["a"])
    np.testing.assert_array_equal(second["a"]["count"].values[:, 0], [0.0, 1.0, 2.0, 3.0])


# -- 7. time at every scale ------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [1e-15, 3e7])
def test_windows_from_femtoseconds_to_years(dt):
    c = msm.Coupling()
    c.add("a", Counter, dt=dt)
    c.add("b", Echo, dt=dt)
    c.connect("a.count", "b.value")
    res = c.run(until=100 * dt, scheme=msm.Serial())
    times = res["a"]["time"].values
    assert times.size == 101  # no window merged with its neighbour, none split
    np.testing.assert_allclose(np.diff(times), dt, rtol=1e-9)
    np.testing.assert_array_equal(res["a"]["count"].values[:, 0], np.arange(101.0))
    assert c.components["b"].seen == list(np.arange(1.0, 101.0))  # Gauss-Seidel: a first, b reads it


def test_windows_are_not_built_as_a_list():
    from msmcore.timeline import count_pieces, window_ends

    ends = window_ends(0.0, 1e300, 1.0)
    assert next(ends) == 1.0 and next(ends) == 2.0  # lazily, whatever the count
    assert count_pieces(0.0, 1e300, 1.0) == int(1e300)
    c = msm.Coupling()
    c.add("a", Counter)
    with pytest.raises(msm.ConfigurationError, match=r"would take 1e\+300 coupling windows .*max_steps"):
        c.run(until=1e300)


def test_max_steps_is_checked_and_raises_the_bound(tmp_path):
    from msmcore.config import load_config

    c = msm.Coupling()
    c.add("a", Counter, dt=1e-3)
    for bad in (0, -1.0, "many", True):
        with pytest.raises(msm.ConfigurationError, match=r"run\(max_steps=...\) must be a positive number"):
            c.run(until=1.0, max_steps=bad)
    with pytest.raises(msm.ConfigurationError, match=r"would take 1e\+03 coupling windows .*run.max_steps"):
        c.run(until=1.0, max_steps=100)
    assert c.run(until=1.0, max_steps=1000, quiet=True)["a"].sizes["time"] == 1001
    path = tmp_path / "c.yaml"
    path.write_text("components:\n  a: {component: fluid.diffusion, shape: [3], D: 1.0, dt: 0.1}\n"
                    "run: {until: 1.0, max_steps: 5}\n")
    with pytest.raises(msm.ConfigurationError, match="max_steps=5"):
        load_config(path).run(quiet=True)
    path.write_text(path.read_text().replace("max_steps: 5", "max_steps: no"))
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:3: run.max_steps must be a positive number"):
        load_config(path)


def test_a_run_shorter_than_round_off_is_refused():
    c = msm.Coupling()
    c.add("a", Counter)
    with pytest.raises(msm.ConfigurationError, match="shorter than the round-off of one coupling window"):
        c.run(until=1e-300)


def test_an_absurd_step_count_is_refused_before_step_one():
    c = msm.Coupling()
    c.add("slow", Undeclared, dt=1e-12)
    c.add("fast", Constant, dt=0.5)
    with pytest.raises(msm.ConfigurationError, match=r"would take 1e\+12 steps of component 'slow' \(dt 1e-12\)"):
        c.run(until=1.0, scheme=msm.Serial(window=0.5))
    assert not hasattr(c.components["slow"], "initialized")


def test_substeps_and_windows_agree():
    from msmcore.timeline import substeps, window_ends

    for start, step in ((0.0, 0.1), (1e-12, 1e-15), (3e9, 3e7), (0.3, 0.1)):
        ends = list(window_ends(start, start + 10 * step, step))
        h, n = substeps(start, start + 10 * step, step)
        assert len(ends) == n == 10 and h == step and ends[-1] == start + 10 * step
    assert len(list(window_ends(0.0, 1.05, 0.1))) == 11  # a shorter last window
    assert substeps(0.0, 1.05, 0.1) == pytest.approx((1.05 / 11, 11))


def test_an_advance_that_stops_early_is_caught_at_any_scale():
    class Short(msm.Component):
        state_attributes = ()

        def declare_ports(self):
            return [msm.Port.output("o", 1)]

        def advance(self, t_end):
            self.t = t_end - 1e-3 * (t_end - self.t)  # 0.1 % short of the window's end

    c = msm.Coupling()
    c.add("s", Short)
    with pytest.raises(msm.CouplingError, match="stopped at"):
        c.run(until=1e-13, scheme=msm.Serial(window=1e-15))


# -- 9. explicit schemes: cycles and time_step() errors -------------------------------------------------------
def test_cycle_error_when_the_first_component_lies_downstream():
    c = msm.Coupling()
    c.add("down", Echo)
    c.add("x", Echo)
    c.add("y", Echo)
    c.connect("x.last", "y.value")
    c.connect("y.last", "x.value")
    c.connect("y.last", "down.value")
    with pytest.raises(msm.CouplingError, match=r"cycle (x -> y -> x|y -> x -> y) that a serial scheme cannot order"):
        c.run(until=1.0, scheme=msm.Serial(window=1.0))


def test_time_step_errors_are_reported_with_the_component():
    class BadStep(msm.Component):
        state_attributes = ()

        def declare_ports(self):
            return [msm.Port.output("o", 1)]

        def time_step(self):
            raise RuntimeError("no step today")

        def advance(self, t_end):
            self.t = t_end

    c = msm.Coupling()
    c.add("bad", BadStep)
    with pytest.raises(msm.CouplingError, match=r"component 'bad': time_step\(\) failed: RuntimeError: no step today"):
        c.run(until=1.0)


# -- 11. arguments of run() and of the schemes -----------------------------------------------------------------
@pytest.mark.parametrize("until", [None, "1", float("inf"), float("nan"), True])
def test_run_until_must_be_a_finite_number(until):
    c = msm.Coupling()
    c.add("a", Counter)
    with pytest.raises(msm.ConfigurationError, match=r"run\(until=...\) must be a finite number"):
        c.run(until=until)


def test_run_scheme_must_be_an_instance():
    c = msm.Coupling()
    c.add("a", Counter)
    with pytest.raises(msm.ConfigurationError, match=r"got the class; pass an instance, e.g. scheme=msm.Serial"):
        c.run(until=1.0, scheme=msm.Serial)
    with pytest.raises(msm.ConfigurationError, match="must be a scheme instance"):
        c.run(until=1.0, scheme="serial")


@pytest.mark.parametrize("make", [
    lambda: msm.Serial(window="0.1"), lambda: msm.Serial(window=0), lambda: msm.Parallel(window=-1.0),
    lambda: msm.Serial(window=float("inf")), lambda: msm.Implicit(window=0.1, rel_tol=-1),
    lambda: msm.Implicit(window=0.1, abs_tol=float("nan")), lambda: msm.Implicit(window=None),
    lambda: msm.Implicit(window=0.1, max_iterations=2.5), lambda: msm.MacroMicro("a", "b", horizon=0),
    lambda: msm.Implicit(window=0.1, acceleration="iqn-ils"), lambda: msm.Serial(order="ab"),
])
def test_bad_scheme_arguments_are_refused(make):
    with pytest.raises(msm.ConfigurationError):
        make()
