"""``origin`` and the ``boundary_low_in`` / ``boundary_high_in`` ports of fluid.diffusion."""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Diffusion

import msmcore as msm


def make(**settings) -> Diffusion:
    base = dict(shape=(11,), spacing=0.5, D=1.0, dt=0.05, boundary="dirichlet")
    base.update(settings)
    return Diffusion(name="d", **base)


def test_origin_shifts_cell_centres() -> None:
    d = make(origin=2.0)
    assert np.allclose(d.port("state_out").spec.coords["x"], 2.0 + (np.arange(11) + 0.5) * 0.5)
    d2 = Diffusion(name="d2", shape=(3, 4), spacing=(1.0, 2.0), D=1.0, dt=0.1, origin=(-1.0, 5.0))
    coords = d2.port("state_in").spec.coords
    assert np.allclose(coords["x"], -1.0 + np.array([0.5, 1.5, 2.5]))
    assert np.allclose(coords["y"], 5.0 + np.array([1.0, 3.0, 5.0, 7.0]))
    d0 = make()
    assert np.allclose(d0.port("state_out").spec.coords["x"], (np.arange(11) + 0.5) * 0.5)


def test_origin_with_wrong_axes_is_a_configuration_error() -> None:
    with pytest.raises(msm.ConfigurationError, match="origin"):
        make(origin=(1.0, 2.0))
    with pytest.raises(msm.ConfigurationError):
        make(origin="left")


def test_boundary_ports_exist_only_for_dirichlet_and_carry_held_cell_coords() -> None:
    assert "boundary_low_in" not in make(boundary="neumann").ports
    d = make(origin=1.0)
    low, high = d.port("boundary_low_in").spec, d.port("boundary_high_in").spec
    assert low.shape == (1,) and high.shape == (1,) and not d.port("boundary_low_in").required
    assert np.allclose(low.coords["x"], [1.25]) and np.allclose(high.coords["x"], [1.0 + 10.5 * 0.5])
    d2 = Diffusion(name="d2", shape=(3, 4), spacing=1.0, D=1.0, dt=0.1, boundary="dirichlet")
    pts = d2.port("boundary_high_in").spec.coords["points"]
    assert np.allclose(pts, [[2.5, 2.0], [1.5, 3.5]])   # high x face, high y face (centre elsewhere)


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_unconnected_ports_keep_boundary_value(method: str) -> None:
    a, b = make(method=method, boundary_value=0.7), make(method=method, boundary_value=0.7)
    a.initialize(), b.initialize()
    b.port_array("boundary_low_in")[:] = 5.0   # written but never received: ignored
    for _ in range(20):
        a.step(0.05), b.step(0.05)
    assert np.array_equal(a.port_array("state_out"), b.port_array("state_out"))
    assert a.port_array("state_out")[0] == 0.7 == a.port_array("state_out")[-1]


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_received_low_value_is_held_and_reaches_the_linear_steady_state(method: str) -> None:
    d = make(method=method, boundary_value=1.0, dt=0.05 if method == "explicit" else 1.0)
    d.initialize()
    d.port_array("boundary_low_in")[:] = -2.0
    d.receive("boundary_low_in")
    u = d.port_array("state_out")
    assert u[0] == -2.0 and u[-1] == 1.0          # held at receive
    for _ in range(3000 if method == "explicit" else 300):
        d.step(d.dt)
    assert u[0] == -2.0 and u[-1] == 1.0
    assert np.allclose(u, np.linspace(-2.0, 1.0, 11), atol=1e-8)
    # a new value is taken at the next receive (and the implicit lift is rebuilt)
    d.port_array("boundary_low_in")[:] = 1.0
    d.port_array("boundary_high_in")[:] = 3.0
    d.receive("boundary_low_in"), d.receive("boundary_high_in")
    for _ in range(3000 if method == "explicit" else 300):
        d.step(d.dt)
    assert np.allclose(u, np.linspace(1.0, 3.0, 11), atol=1e-8)


def test_implicit_with_ports_equals_explicit_boundary_value_setting() -> None:
    """Received held values give the same run as the same values set as boundary_value."""
    a = make(method="implicit", boundary_value=0.0, dt=0.2, initial=0.3)
    b = make(method="implicit", boundary_value=0.8, dt=0.2, initial=0.3)
    a.initialize(), b.initialize()
    a.port_array("boundary_low_in")[:] = 0.8
    a.port_array("boundary_high_in")[:] = 0.8
    a.receive("boundary_low_in"), a.receive("boundary_high_in")
    for _ in range(10):
        a.step(0.2), b.step(0.2)
    assert np.allclose(a.port_array("state_out"), b.port_array("state_out"), rtol=1e-10, atol=1e-12)


def test_2d_faces_and_corners() -> None:
    d = Diffusion(name="d2", shape=(4, 5), spacing=1.0, D=1.0, dt=0.1, boundary="dirichlet",
                  boundary_value=9.0)
    d.initialize()
    d.port_array("boundary_low_in")[:] = [1.0, 2.0]   # x low, y low
    d.receive("boundary_low_in")
    d.step(0.1)
    u = d.port_array("state_out")
    assert np.all(u[0, 1:-1] == 1.0) and np.all(u[1:, 0] == 2.0)    # corner (0, 0): y low (later axis)
    assert np.all(u[-1, 1:] == 9.0) and np.all(u[:-1, -1] == 9.0)  # high faces keep boundary_value
    assert u[0, -1] == 9.0 and u[-1, 0] == 2.0


def test_save_restore_covers_the_held_values() -> None:
    d = make(method="implicit", boundary_value=1.0, dt=0.5)
    d.initialize()
    saved = d.save_state()
    d.port_array("boundary_low_in")[:] = 4.0
    d.receive("boundary_low_in")
    d.step(0.5)
    first = d.port_array("state_out").copy()
    d.restore_state(saved)
    assert d.port_array("state_out")[0] == 1.0
    d.step(0.5)
    assert d.port_array("state_out")[0] == 1.0      # back to boundary_value: nothing received
    d.restore_state(saved)
    d.port_array("boundary_low_in")[:] = 4.0
    d.receive("boundary_low_in")
    d.step(0.5)
    assert np.array_equal(d.port_array("state_out"), first)


def test_coupled_through_a_mapping() -> None:
    """An output on other points feeds the low face through a nearest mapping."""

    class Wall(msm.Component):
        dt = msm.Setting(float, default=0.1)
        state_attributes = ()

        def declare_ports(self):
            return [msm.Port.output("v_out", 4, coords={"y": np.array([0.0, 1.0, 2.0, 3.0])})]

        def initialize(self):
            self.port_array("v_out")[:] = [10.0, 11.0, 12.0, 13.0]

        def step(self, dt):
            pass

    c = msm.Coupling()
    c.add("wall", Wall)
    c.add("d", "fluid.diffusion", shape=(5,), spacing=1.0, origin=1.5, D=1.0, dt=0.1,
          boundary="dirichlet", boundary_value=0.0)
    c.connect("wall.v_out", "d.boundary_low_in", mapping="nearest")   # low cell centre y = 2.0
    res = c.run(until=0.5, scheme=msm.Serial(window=0.1), quiet=True)
    u = res["d"]["state_out"].values
    assert np.all(u[1:, 0] == 12.0) and np.all(u[:, -1] == 0.0)
