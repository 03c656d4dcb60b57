"""Ports, zero copy, discovery and save/restore of fluid.heat."""

from __future__ import annotations

import importlib.metadata as md

import numpy as np
import pytest
from msm_fluid import Heat

import msmcore as msm

PROBLEM = dict(
    constants={"alpha": 3.0, "beta": 1.2},
    boundary="1 + x**2 + alpha*y**2 + beta*t + 0.1*sin(5*x*y)",  # not exact: a generic field
    source="beta - 2 - 2*alpha",
    dt=0.1,
    size=(1.0, 0.5),
    nodes=(7, 5),
)


def test_ports_per_role_with_edge_coordinates() -> None:
    # Interface ports have one point per edge node (corners included) and the
    # coordinate along the edge under its axis name, the same values as the field's.
    d = Heat(name="left", interface_edge="right", interface_role="dirichlet", units="K", flux_units="W/m^2",
             **PROBLEM)
    assert set(d.ports) == {"temperature_out", "temperature_in", "flux_out"}
    field = d.ports["temperature_out"].spec
    assert field.shape == (7, 5) and field.units == "K"
    np.testing.assert_allclose(field.coords["x"], np.linspace(0, 1, 7), rtol=0, atol=1e-15)
    np.testing.assert_allclose(field.coords["y"], np.linspace(0, 0.5, 5), rtol=0, atol=1e-15)
    t_in, q_out = d.ports["temperature_in"], d.ports["flux_out"]
    assert t_in.direction is msm.Direction.IN and t_in.required
    assert q_out.direction is msm.Direction.OUT
    assert t_in.spec.shape == (5,) and q_out.spec.units == "W/m^2" and t_in.spec.units == "K"
    assert list(q_out.spec.coords) == ["y"]
    np.testing.assert_array_equal(q_out.spec.coords["y"], field.coords["y"])
    np.testing.assert_array_equal(d.interface_points, np.column_stack([np.full(5, 1.0), field.coords["y"]]))

    n = Heat(name="bottom", interface_edge="bottom", interface_role="neumann", **PROBLEM)
    assert set(n.ports) == {"temperature_out", "flux_in", "temperature_iface_out"}
    assert n.ports["flux_in"].spec.shape == (7,) and list(n.ports["flux_in"].spec.coords) == ["x"]
    np.testing.assert_array_equal(n.interface_points[:, 1], 0.0)

    plain = Heat(name="plain", **PROBLEM)
    assert set(plain.ports) == {"temperature_out"} and plain.n_edge == 0


def test_temperature_out_is_the_petsc_vec_memory() -> None:
    c = Heat(name="h", **PROBLEM)
    early = c.port_array("temperature_out")
    c.initialize()
    u = c.port_array("temperature_out")
    assert u is early and u.flags.c_contiguous
    assert np.shares_memory(u, c.state_vec.getArray(readonly=True))
    c.advance(0.2)
    assert c.port_array("temperature_out") is u
    np.testing.assert_array_equal(c.state_vec.getArray(readonly=True).reshape(7, 5), u)


def test_neumann_interface_output_follows_the_field() -> None:
    c = Heat(name="n", interface_edge="top", interface_role="neumann", **PROBLEM)
    c.initialize()
    c.port_array("flux_in")[...] = 0.3
    c.receive("flux_in")
    c.advance(0.3)
    u = c.port_array("temperature_out")
    np.testing.assert_array_equal(c.port_array("temperature_iface_out"), u[:, -1])
    with pytest.raises(msm.CouplingError, match="has no port 'temperature_in'"):
        c.receive("temperature_in")


@pytest.mark.parametrize("role,edge", [("dirichlet", "right"), ("neumann", "left"), (None, None)])
def test_save_restore_round_trip_is_bit_identical(role, edge) -> None:
    # Restoring a snapshot and repeating the same window with the same input
    # must give the same bits: nothing that influences a step lives outside it.
    c = Heat(name="h", interface_edge=edge, interface_role=role, **PROBLEM)
    c.initialize()
    u = c.port_array("temperature_out")
    inp = {"dirichlet": "temperature_in", "neumann": "flux_in"}.get(role)
    out = {"dirichlet": "flux_out", "neumann": "temperature_iface_out"}.get(role)
    if inp:
        c.port_array(inp)[...] = np.linspace(1.0, 2.0, c.n_edge)
    c.advance(0.2)
    snapshot = c.save_state()
    saved_u, saved_t = u.copy(), c.t
    saved_out = c.port_array(out).copy() if out else None
    if inp:
        c.port_array(inp)[...] += 0.5
    c.advance(0.5)
    reference = u.copy()
    ref_out = c.port_array(out).copy() if out else None
    assert not np.array_equal(reference, saved_u)
    # A different attempt at the window (other input), then back:
    if inp:
        c.port_array(inp)[...] *= 3.0
    c.advance(0.7)
    c.restore_state(snapshot)
    assert c.port_array("temperature_out") is u and c.t == saved_t
    np.testing.assert_array_equal(u, saved_u)
    assert np.shares_memory(u, c.state_vec.getArray(readonly=True))
    if out:
        np.testing.assert_array_equal(c.port_array(out), saved_out)
        c.port_array(inp)[...] += 0.5  # restore_state refills the input too: write it after
    c.advance(0.5)
    np.testing.assert_array_equal(u, reference)
    if out:
        np.testing.assert_array_equal(c.port_array(out), ref_out)
    snapshot["u"][...] = -1.0  # the snapshot is a copy, not a view
    assert not np.any(u == -1.0)


def test_step_before_initialize_and_finalize() -> None:
    c = Heat(name="h", **PROBLEM)
    with pytest.raises(msm.CouplingError, match=r"component 'h': step\(\) called before initialize\(\)"):
        c.step(0.1)
    c.initialize()
    u = c.port_array("temperature_out")
    c.finalize()
    assert c.port_array("temperature_out") is u  # arrays outlive the PETSc objects


def test_initial_default_is_the_boundary_function_at_the_start_time() -> None:
    # The coupling sets t to its start time before initialize().
    c = Heat(name="h", **PROBLEM)
    c.t = 2.0
    c.initialize()
    X, Y = np.meshgrid(np.linspace(0, 1, 7), np.linspace(0, 0.5, 5), indexing="ij")
    expected = 1 + X**2 + 3 * Y**2 + 1.2 * 2.0 + 0.1 * np.sin(5 * X * Y)
    np.testing.assert_allclose(c.port_array("temperature_out"), expected, rtol=1e-15)
    c2 = Heat(name="h", initial="x*y", **PROBLEM)
    c2.initialize()
    np.testing.assert_allclose(c2.port_array("temperature_out"), X * Y, rtol=1e-15)


def _installed() -> bool:
    eps = md.entry_points(group="msmcore.plugins")
    return any(ep.name == "fluid" and ep.value == "msm_fluid.plugin" for ep in eps)


@pytest.mark.skipif(not _installed(), reason="msm-fluid is not installed (pip install -e plugins/msm-fluid)")
def test_registry_finds_fluid_heat() -> None:
    registry = msm.get_registry()
    registry.reload()
    info = registry.get("fluid.heat")
    assert info.factory is Heat and info.distribution == "msm-fluid"
    assert info.description.startswith("Heat equation du/dt = kappa lap(u) + f")
    c = registry.create("fluid.heat", name="left", size=(1.0, 1.0), nodes=(5, 5), dt=0.1)
    assert isinstance(c, Heat) and c.name == "left"


def test_the_class_declares_its_state_and_ports_give_coordinate_units() -> None:
    assert Heat.declares_state()
    for role, edge in (("dirichlet", "right"), ("neumann", "top")):
        c = Heat(name="h", interface_edge=edge, interface_role=role, **PROBLEM)
        assert len(c.ports) == 3
        # node coordinates span origin .. origin + size, both settings in metres
        assert all(p.spec.coord_units == "m" for p in c.ports.values())
    assert Heat.setting_specs()["size"].units == "m" and Heat.setting_specs()["origin"].units == "m"
