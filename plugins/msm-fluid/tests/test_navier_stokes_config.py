"""fluid.navier_stokes: bad input is refused with a message naming it; state and lifetime."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from msm_fluid import NavierStokes
from petsc4py import PETSc

import msmcore as msm

CAVITY = dict(nodes=(17, 17), viscosity=0.01, wall_velocity={"top": 1.0})


@pytest.mark.parametrize(("settings", "words"), [
    ({"boundary": {"front": "wall"}}, ["boundary", "front"]),
    ({"boundary": {"top": "inflow"}}, ["boundary", "top", "inflow"]),
    ({"boundary": {"left": "inflow"}}, ["needs an outflow"]),
    ({"wall_velocity": {"left": 1.0}, "boundary": {"left": "slip"}}, ["wall_velocity", "left", "slip"]),
    ({"mode": "transient"}, ["transient", "dt"]),
    ({"nodes": (4, 17)}, ["nodes", "at least 5"]),
    ({"viscosity": -1.0}, ["viscosity"]),
    ({"inflow": "U*y", "boundary": {"left": "inflow", "right": "outflow"}}, ["inflow", "unknown name", "U"]),
    ({"time_scheme": "rk4"}, ["time_scheme"]),
])
def test_bad_settings_raise_configuration_error(settings, words) -> None:
    with pytest.raises(msm.ConfigurationError) as info:
        NavierStokes(name="ns", **{**CAVITY, **settings})
    for word in words:
        assert word in str(info.value)


def test_wall_speed_on_a_slip_edge_from_the_port_is_a_coupling_error() -> None:
    c = NavierStokes(name="ns", **{**CAVITY, "boundary": {"left": "slip"}})
    c.initialize()
    c.port_array("wall_velocity_in")[:] = [0.5, 0.0, 0.0, 1.0]
    with pytest.raises(msm.CouplingError, match="'left'.*slip"):
        c.receive("wall_velocity_in")
    c.finalize()


def test_newton_failure_is_a_convergence_error() -> None:
    c = NavierStokes(name="ns", **CAVITY, petsc_options={"snes_max_it": 1})
    c.initialize()
    with pytest.raises(msm.ConvergenceError, match="ns.*did not converge"):
        c.advance(1.0)
    c.finalize()


def test_wall_velocity_port_drives_the_flow_like_the_setting() -> None:
    a = NavierStokes(name="a", **CAVITY)
    b = NavierStokes(name="b", nodes=(17, 17), viscosity=0.01)
    a.initialize()
    b.initialize()
    b.port_array("wall_velocity_in")[:] = [0.0, 0.0, 0.0, 1.0]
    b.receive("wall_velocity_in")
    a.advance(1.0)
    b.advance(1.0)
    np.testing.assert_allclose(b.port_array("velocity_out"), a.port_array("velocity_out"), rtol=0, atol=1e-12)
    a.finalize()
    b.finalize()


def test_transient_state_restores_bit_for_bit() -> None:
    c = NavierStokes(name="ns", **CAVITY, mode="transient", dt=0.05)
    c.initialize()
    c.advance(0.1)
    saved = c.save_state()
    c.advance(0.2)
    first = {p: c.port_array(p).copy() for p in ("velocity_out", "pressure_out", "vorticity_out")}
    c.port_array("force_in")[..., 1] = 3.0  # an input arriving in between is part of the state
    c.restore_state(saved)
    assert c.t == pytest.approx(0.1)
    c.advance(0.2)
    for p, v in first.items():
        np.testing.assert_array_equal(c.port_array(p), v)
    assert c.t == pytest.approx(0.2)
    c.finalize()


def test_steady_restart_after_finalize_starts_afresh() -> None:
    c = NavierStokes(name="ns", **CAVITY)
    c.initialize()
    c.advance(1.0)
    first = c.port_array("velocity_out").copy()
    its = c.newton_iterations
    c.advance(2.0)  # already converged: no Newton step
    assert c.newton_iterations == 0
    c.finalize()
    assert np.array_equal(c.port_array("velocity_out"), first)  # readable after finalize
    c.t = 0.0
    c.initialize()
    assert not np.any(c.port_array("velocity_out")[:, :-1])  # at rest again (the lid row moves)
    c.advance(1.0)
    assert c.newton_iterations == its
    np.testing.assert_array_equal(c.port_array("velocity_out"), first)
    c.finalize()


def test_registered_and_coupled_through_msmcore() -> None:
    c = msm.Coupling()
    c.add("ns", "fluid.navier_stokes", **CAVITY)
    res = c.run(until=1.0, scheme=msm.Serial(window=1.0), quiet=True)
    ds = res["ns"]
    assert "velocity_out" in ds and ds["velocity_out"].attrs.get("units") == "m/s"
    assert float(ds["velocity_out"].isel(time=-1).sel(component="u").min()) < -0.15


def live_petsc_objects() -> int:
    """petsc4py objects that still hold a PETSc object (a non-zero handle)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PETSc.Object) and o.handle)


def test_runs_in_a_loop_leave_no_petsc_objects_and_no_options() -> None:
    c = NavierStokes(name="loop", **{**CAVITY, "mode": "transient", "dt": 0.1})
    before = live_petsc_objects()
    for _ in range(3):
        c.t = 0.0
        c.initialize()
        c.advance(0.2)
        c.finalize()
    assert live_petsc_objects() == before
    assert not any(k.startswith("loop_") for k in PETSc.Options().getAll())  # the defaults are taken back


@pytest.mark.slow
def test_checkpoint_resume_is_bit_for_bit(tmp_path) -> None:
    def coupling() -> msm.Coupling:
        c = msm.Coupling()
        c.add("ns", "fluid.navier_stokes", **{**CAVITY, "mode": "transient", "dt": 0.05})
        return c

    scheme = msm.Serial(window=0.1)
    full = coupling().run(until=0.4, scheme=scheme, quiet=True)["ns"]["vorticity_out"].values
    ckpt = msm.Checkpoints(every=0.2, keep=2, path=str(tmp_path / "ns.ckpt"))
    coupling().run(until=0.2, scheme=scheme, quiet=True, checkpoint=ckpt)
    again = coupling().run(until=0.4, scheme=scheme, quiet=True, checkpoint=ckpt,
                           resume=str(tmp_path / "ns.ckpt"))["ns"]["vorticity_out"].values
    np.testing.assert_array_equal(again, full)
