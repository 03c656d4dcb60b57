"""fluid.diffusion in other length and time units: ports say them, and connections convert.

Reference: the same decay problem in SI. A field decaying at rate k = 0.1 /min is the field
decaying at k = 0.1/60 /s; after 30 min both hold exp(-k t) of their start (the explicit step is
exact up to (1 - k dt)^n, compared here between the two unit systems, which must agree to round-off).
"""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm


def _run(length: str, time: str, spacing: float, D: float, decay: float, dt: float, until: float) -> np.ndarray:
    c = msm.Coupling()
    f = c.add("f", "fluid.diffusion", shape=(8,), spacing=spacing, D=D, decay=decay, dt=dt, initial=1.0,
              initial_points={3: 2.0}, length_units=length, time_units=time)
    c.run(until=until, quiet=True)
    return f.port_array("state_out").copy()


def test_ports_carry_the_chosen_units() -> None:
    comp = msm.Coupling().add("f", "fluid.diffusion", shape=(4,), spacing=20.0, D=2000.0, dt=0.01,
                              length_units="um", time_units="min", units="mmHg")
    ports = comp.ports
    assert ports["state_out"].spec.coord_units == "um"
    assert ports["sink_in"].spec.units == "1/min"
    assert ports["source_in"].spec.units == "mmHg/min"


def test_minutes_and_micrometres_equal_seconds_and_metres() -> None:
    # D = 2000 um^2/min = 2000e-12/60 m^2/s; decay 0.1/min; dt 0.05 min = 3 s; 30 min = 1800 s
    a = _run("um", "min", 20.0, 2000.0, 0.1, 0.05, 30.0)
    b = _run("m", "s", 20e-6, 2000e-12 / 60, 0.1 / 60, 3.0, 1800.0)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    # zero-flux walls: diffusion keeps the total, the loss (implicit per step, as BioFVM) divides it by 1 + k dt
    assert a.sum() == pytest.approx(9.0 / (1.0 + 0.1 * 0.05) ** 600, rel=1e-12)


class PerSecondSource(msm.Component):
    """A uniform source of 1 mol/m^3/s."""

    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("s_out", (4,), units="mol/m^3/s",
                                coords={"x": (np.arange(4) + 0.5) * 20.0}, coord_units="um")]

    def initialize(self) -> None:
        self.port_array("s_out")[...] = 1.0

    def step(self, dt: float) -> None:
        pass  # the source is constant


def test_a_per_second_source_into_a_per_minute_field_is_converted() -> None:
    c = msm.Coupling()
    c.add("src", PerSecondSource, dt=0.5)
    f = c.add("f", "fluid.diffusion", shape=(4,), spacing=20.0, D=1.0, dt=0.5, units="mol/m^3",
              length_units="um", time_units="min")
    c.connect("src.s_out", "f.source_in")
    c.run(until=1.0, scheme=msm.Serial(order=["src", "f"]), quiet=True)
    np.testing.assert_allclose(f.port_array("state_out"), 60.0, rtol=1e-12)  # 1 mol/m^3/s for 1 min


@pytest.mark.parametrize(("setting", "value"), [("length_units", "s"), ("time_units", "m"),
                                                ("length_units", "furlong")])
def test_units_that_are_not_a_length_or_a_time_are_refused(setting: str, value: str) -> None:
    kwargs = dict(shape=(4,), spacing=1.0, D=1.0, dt=0.1, **{setting: value})
    with pytest.raises(msm.ConfigurationError, match=rf"{setting}='{value}' is not a unit of"):
        msm.Coupling().add("f", "fluid.diffusion", **kwargs)
