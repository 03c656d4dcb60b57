"""fluid.advection_diffusion: ports, bad inputs, state (save/restore), lifetime, buoyancy and coupling."""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import AdvectionDiffusion

import msmcore as msm

BASE = dict(size=(1.0, 0.5), cells=(8, 4), kappa=0.01, dt=0.1, left=("dirichlet", 1.0), right="dirichlet 0",
            initial="x*y")


class Flow(msm.Component):
    """A prescribed cell-centre velocity (u, v) = (1, 0.1 x) on a grid of its own."""

    state_attributes = ()
    size = msm.Setting(float, default=1.0)
    cells = msm.Setting(int, default=8)
    dt = msm.Setting(float, default=0.1)
    bad = msm.Setting(bool, default=False)

    def declare_ports(self) -> list[msm.Port]:
        n = self.cells
        coords = {"x": (np.arange(n) + 0.5) * self.size / n, "y": (np.arange(4) + 0.5) * 0.5 / 4}
        return [msm.Port.output("velocity_out", (n, 4), components=2, units="m/s", coords=coords,
                                coord_units="m")]

    def initialize(self) -> None:
        v = self.port_array("velocity_out")
        v[..., 0] = 1.0
        v[..., 1] = 0.1 * np.arange(self.cells)[:, None]

    def step(self, dt: float) -> None:
        if self.bad:
            self.port_array("velocity_out")[2, 1, 0] = np.nan


def test_ports_describe_cell_centres_and_two_components() -> None:
    c = AdvectionDiffusion("ad", units="K", **BASE)
    assert set(c.ports) == {"state_out", "velocity_in", "source_in", "buoyancy_out"}
    vel = c.ports["velocity_in"].spec
    assert vel.shape == (8, 4) and vel.components == 2 and not c.ports["velocity_in"].required
    np.testing.assert_allclose(vel.coords["x"], (np.arange(8) + 0.5) / 8)
    np.testing.assert_allclose(vel.coords["y"], (np.arange(4) + 0.5) / 8)
    assert c.ports["state_out"].spec.units == "K"
    c.initialize()
    assert c.port_array("velocity_in").shape == (8, 4, 2)
    assert np.shares_memory(c.port_array("state_out"), c._vecs["T"].getArray(readonly=True))


@pytest.mark.parametrize("bad", [dict(method="implicit", scheme="tvd"), dict(left="robin 1"),
                                 dict(open=["front"]), dict(kappa=-1.0), dict(cells=(1, 4)), dict(dt=0.0),
                                 dict(initial="x + q"), dict(nodes=(8, 4)), dict(cells=None)])
def test_bad_settings_are_configuration_errors(bad: dict) -> None:
    with pytest.raises(msm.ConfigurationError):
        AdvectionDiffusion("ad", **{**BASE, **bad})


def test_nan_velocity_is_refused_naming_the_port_and_cell() -> None:
    c = AdvectionDiffusion("ad", **BASE)
    c.initialize()
    c.port_array("velocity_in")[3, 2, 1] = np.nan
    c.receive("velocity_in")
    with pytest.raises(msm.CouplingError, match=r"velocity_in.*cell \(3, 2\), component 1"):
        c.step(0.1)


def test_velocity_port_on_another_mesh_or_shape_is_refused_at_connect() -> None:
    for flow, match in ((dict(size=2.0), "coordinates|mesh"), (dict(cells=6), "shape|points|size")):
        c = msm.Coupling()
        c.add("flow", Flow, **flow)
        c.add("ad", AdvectionDiffusion, **BASE)
        with pytest.raises(msm.CouplingError, match=match):
            c.connect("flow.velocity_out", "ad.velocity_in")


def test_nan_velocity_in_a_coupling_is_refused() -> None:
    c = msm.Coupling()
    c.add("flow", Flow, bad=True)
    c.add("ad", AdvectionDiffusion, **BASE)
    c.connect("flow.velocity_out", "ad.velocity_in")
    with pytest.raises(msm.CouplingError, match="velocity_in"):
        c.run(until=0.3, scheme=msm.Serial(), quiet=True, check_finite=False)


def test_coupled_velocity_is_used_and_runs_twice_identically() -> None:
    c = msm.Coupling()
    c.add("flow", Flow)
    c.add("ad", AdvectionDiffusion, **BASE)
    c.connect("flow.velocity_out", "ad.velocity_in")
    one = c.run(until=0.5, scheme=msm.Serial(), quiet=True)["ad"]["state_out"].values
    two = c.run(until=0.5, scheme=msm.Serial(), quiet=True)["ad"]["state_out"].values
    np.testing.assert_array_equal(one, two)
    still = msm.Coupling()
    still.add("ad", AdvectionDiffusion, **BASE)
    resting = still.run(until=0.5, scheme=msm.Serial(), quiet=True)["ad"]["state_out"].values
    assert np.abs(one[-1] - resting[-1]).max() > 1e-3  # the flow made a difference


@pytest.mark.parametrize("method", ["implicit", "explicit"])
def test_save_advance_restore_advance_is_bit_identical(method: str) -> None:
    c = AdvectionDiffusion("ad", method=method, **BASE)
    c.initialize()
    v = c.port_array("velocity_in")
    v[..., 0], v[..., 1] = 0.5, -0.2
    c.receive("velocity_in")
    c.advance(0.2)
    snap = c.save_state()
    c.advance(0.5)
    first = {k: c.port_array(k).copy() for k in c.ports}
    v[...] = 3.0  # other input arrived in between
    c.restore_state(snap)
    c.advance(0.5)
    for k in c.ports:
        np.testing.assert_array_equal(c.port_array(k), first[k])


def test_finalize_then_initialize_starts_afresh() -> None:
    c = AdvectionDiffusion("ad", **BASE)
    c.initialize()
    T0 = c.port_array("state_out").copy()
    c.advance(0.3)
    c.finalize()
    assert c.port_array("state_out").shape == (8, 4)  # still readable
    with pytest.raises(msm.CouplingError):
        c.step(0.1)
    c.t = 0.0
    c.initialize()
    np.testing.assert_array_equal(c.port_array("state_out"), T0)
    assert not c.velocity_received


def test_buoyancy_is_minus_beta_delta_t_times_gravity() -> None:
    c = AdvectionDiffusion("ad", expansion=2e-3, reference=0.25, gravity=(0.0, -9.81), **BASE)
    c.initialize()
    T, f = c.port_array("state_out"), c.port_array("buoyancy_out")
    np.testing.assert_allclose(f[..., 1], 9.81 * 2e-3 * (T - 0.25), rtol=1e-15)
    np.testing.assert_array_equal(f[..., 0], 0.0)
    c.advance(0.2)
    np.testing.assert_allclose(f[..., 1], 9.81 * 2e-3 * (T - 0.25), rtol=1e-15)


@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_explicit_upwind_rate_equals_the_implicit_operator(grid: str) -> None:
    # Two codes of one discretisation: the NumPy flux rate and the assembled matrix M (A = I - dt M).
    from msm_fluid.advection import assemble_operator, rate

    settings = {**BASE, "bottom": ("neumann", 0.7)}
    if grid == "nodes":
        del settings["cells"]
        settings["nodes"] = (8, 4)
    c = AdvectionDiffusion("ad", method="explicit", scheme="upwind", open=["left", "top"],
                           velocity=("1 + y", "0.3 - x"), **settings)
    c.initialize()
    Ux, Uy = c._faces()
    dt = 1e-3
    A, b = assemble_operator(c.grid, c.sides, Ux, Uy, c.kappa, "upwind", dt)
    x = c._vecs["T"]
    Ax = x.duplicate()
    A.mult(x, Ax)
    M_T = (c.port_array("state_out") - Ax.getArray().reshape(8, 4)) / dt
    r = rate(c.grid, c.sides, c._pad.fill(x), Ux, Uy, c.kappa, "upwind", c._pad.w)
    free = ~c._held  # node grid: held rows are the identity (rate 0)
    np.testing.assert_allclose((M_T + b)[free], r[free], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(r[c._held], 0.0)
    assert c._held.sum() == (8 if grid == "nodes" else 0)
    Ax.destroy()
    A.destroy()
