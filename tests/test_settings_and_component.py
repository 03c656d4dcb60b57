"""The component protocol: settings validation, ports, sub-cycling, save/restore."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm


class Decay(msm.Component):
    """du/dt = -k u, forward Euler."""

    k = msm.Setting(float, default=1.0, minimum=0.0)
    n = msm.Setting(int, default=4, minimum=1)
    method = msm.Setting(str, default="euler", choices=("euler",))
    dt = msm.Setting(float, default=0.1, minimum=0.0)
    label = msm.Setting(str)
    state_attributes = ("steps",)  # besides the port arrays and t

    def declare_ports(self):
        return [msm.Port.input("u_in", self.n, required=False), msm.Port.output("u_out", self.n, units="mol")]

    def initialize(self):
        self.u = self.port_array("u_out")
        self.u[:] = 1.0
        self.steps = 0

    def step(self, dt):
        self.u *= 1.0 - self.k * dt


def test_settings_defaults_conversion_and_errors():
    c = Decay(label="a", k="2.5", n=3.0)
    assert (c.k, c.n, c.method, c.label) == (2.5, 3, "euler", "a")
    with pytest.raises(msm.ConfigurationError, match="needs setting 'label'"):
        Decay()
    with pytest.raises(msm.ConfigurationError, match="setting 'k' of component 'macro' must be >= 0.0"):
        Decay(name="macro", label="x", k=-1)
    with pytest.raises(msm.ConfigurationError, match="must be one of \\['euler'\\]"):
        Decay(label="x", method="rk4")
    with pytest.raises(msm.ConfigurationError, match="must be int"):
        Decay(label="x", n=2.5)
    with pytest.raises(msm.ConfigurationError, match="must be finite"):
        Decay(label="x", k=float("nan"))
    with pytest.raises(msm.ConfigurationError, match="no setting\\(s\\) 'kk'.*k: float default 1.0"):
        Decay(label="x", kk=1)
    with pytest.raises(AttributeError, match="read-only"):
        c.k = 3.0


def test_ports_and_zero_copy_port_arrays():
    c = Decay(label="x")
    assert set(c.ports) == {"u_in", "u_out"}
    assert c.port("u_out").spec.units == "mol" and c.port("u_out").direction is msm.Direction.OUT
    c.initialize()
    assert c.port_array("u_out") is c.u  # same object every call: the coupling wraps it
    with pytest.raises(msm.CouplingError, match="no port 'u'; its ports are: u_in \\(in\\), u_out \\(out\\)"):
        c.port("u")


def test_advance_subcycles_to_exact_end_and_matches_discrete_solution():
    c = Decay(label="x", k=2.0, dt=0.1)
    c.initialize()
    c.advance(1.0)
    assert c.t == 1.0
    # Exact solution of the forward Euler recursion: (1 - k dt)^n, n = 10.
    np.testing.assert_allclose(c.u, 0.8**10, rtol=1e-14)
    c.advance(1.25)  # 0.25 is not a multiple of dt: three equal steps of 1/12
    np.testing.assert_allclose(c.u, 0.8**10 * (1 - 2.0 / 12) ** 3, rtol=1e-14)


def test_save_and_restore_state_resume_identically():
    c = Decay(label="x", k=1.0, dt=0.05)
    c.initialize()
    c.advance(0.5)
    snap = c.save_state()
    c.advance(1.0)
    first = c.u.copy()
    c.restore_state(snap)
    assert c.t == 0.5
    c.advance(1.0)
    np.testing.assert_array_equal(c.u, first)
    assert c.port_array("u_out") is c.u


def test_component_without_step_explains():
    class Bare(msm.Component):
        dt = msm.Setting(float, default=1.0)

    with pytest.raises(NotImplementedError, match="implements neither step\\(\\) nor advance\\(\\)"):
        Bare().advance(1.0)


def test_converters_for_structured_settings():
    from msmcore.settings import Converter, to_integer, to_number, to_positive

    assert (to_integer("3"), to_integer(4.0), to_number("2.5"), to_positive(1e-3)) == (3, 4, 2.5, 1e-3)
    with pytest.raises(ValueError, match="axis 0 2.5 is not an integer"):
        to_integer(2.5, "axis 0")
    with pytest.raises(ValueError, match="^True is not a number"):
        to_number(True)
    with pytest.raises(ValueError, match="inf is not finite"):
        to_number(float("inf"))
    with pytest.raises(ValueError, match="0.0 is not > 0"):
        to_positive(0.0)
    pair = Converter("a pair of floats > 0", lambda v: tuple(to_positive(x) for x in v))

    class Box(msm.Component):
        size = msm.Setting(pair, default=(1.0, 1.0))

    assert Box(size=["2", 3]).size == (2.0, 3.0)
    with pytest.raises(msm.ConfigurationError, match="'size' of component 'Box' must be a pair of floats > 0.*-1 is not > 0"):  # noqa: E501 - the whole message, as the code writes it
        Box(size=(1, -1))
