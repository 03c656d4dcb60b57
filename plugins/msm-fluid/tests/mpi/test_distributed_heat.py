"""fluid.heat distributed over MPI.COMM_WORLD: exact, and equal to the same run on one rank.

Run under ``mpiexec -n 2`` and ``-n 3`` (and passes on one rank). Exactness
reference: preCICE's partitioned heat conduction tutorial
(https://precice.org/tutorials-partitioned-heat-conduction.html),
u = 1 + x^2 + alpha y^2 + beta t (alpha = 3, beta = 1.2), f = beta - 2 - 2 alpha,
which vertex-centred second-order differences and implicit Euler reproduce
exactly (see tests/test_heat_exact.py): fields to 1e-9 absolute with the KSP
at rtol 1e-13. The serial reference is the same component on COMM_SELF on
every rank; the distributed result is gathered by ``port_indices``.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import Heat
from msm_fluid.conduction import EDGES
from port_gather import gather_port

import msmcore as msm

WORLD = MPI.COMM_WORLD
ALPHA, BETA, GAMMA, KAPPA = 3.0, 1.2, 0.7, 0.5
TUTORIAL = dict(
    constants={"alpha": ALPHA, "beta": BETA},
    boundary="1 + x**2 + alpha*y**2 + beta*t",
    source="beta - 2 - 2*alpha",
    dt=0.1,
    ksp_rtol=1e-13,
)
# Non-square grid, offset origin, kappa != 1 and a cross term gamma x y so that
# the flux varies along every edge (a shifted or reversed edge part would show).
GENERAL = dict(
    origin=(0.5, -0.25), size=(1.0, 0.75), nodes=(9, 8), kappa=KAPPA, dt=0.05, ksp_rtol=1e-13,
    constants={"alpha": ALPHA, "beta": BETA, "gamma": GAMMA, "kappa": KAPPA},
    boundary="1 + x**2 + alpha*y**2 + gamma*x*y + beta*t",
    source="beta - kappa*(2 + 2*alpha)",
)


# Grids whose x axis PETSc splits so that a rank at the left or right edge owns
# only 2 node columns: the inward rows of the one-sided flux lie on the next rank.
# (With up to 3 ranks PETSc splits x for all these grids; the bottom and top
# edges are then split across ranks, so both cases are exercised.)
NODES = [(9, 8), (max(2 * WORLD.Get_size(), 3), 3)]


def exact(x, y, t):
    return 1.0 + x**2 + ALPHA * y**2 + GAMMA * x * y + BETA * t


def exact_flux(edge: str, x, y):
    """-kappa du/da, a = x for left/right edges, y for bottom/top."""
    if EDGES[edge].axis == 0:
        return -KAPPA * (2.0 * x + GAMMA * y)
    return -KAPPA * (2.0 * ALPHA * y + GAMMA * x)


def put(comp: Heat, port: str, whole: np.ndarray) -> None:
    """Write this rank's part of the global array ``whole`` into the port array."""
    comp.port_array(port).reshape(-1)[...] = np.asarray(whole).reshape(-1)[comp.port_indices(port)]


def build(comm, **settings) -> Heat:
    c = Heat(name="h", **settings)
    c.comm = comm
    return c


def grid_xy(c: Heat):
    coords = c.port("temperature_out").spec.coords
    return np.meshgrid(coords["x"], coords["y"], indexing="ij")


def test_manufactured_solution_all_dirichlet_is_exact_and_equals_serial() -> None:
    c = build(WORLD, size=(2.0, 1.0), nodes=(21, 11), **TUTORIAL)
    u = c.port_array("temperature_out")
    c.initialize()
    X, Y = grid_xy(c)
    ref = build(MPI.COMM_SELF, size=(2.0, 1.0), nodes=(21, 11), **TUTORIAL)
    ref.initialize()
    for k in range(1, 6):
        c.advance(0.1 * k)
        ref.advance(0.1 * k)
        whole = gather_port(c, "temperature_out")
        np.testing.assert_allclose(whole, 1.0 + X**2 + ALPHA * Y**2 + BETA * c.t, rtol=0, atol=1e-9)
        np.testing.assert_allclose(whole, ref.port_array("temperature_out"), rtol=0, atol=1e-10)
    assert c.port_array("temperature_out") is u and u.flags.c_contiguous
    assert np.shares_memory(u, c.state_vec.getArray(readonly=True))
    c.finalize()
    ref.finalize()


def interface_layout_is_consistent(c: Heat) -> None:
    """Interface ports: this rank's edge nodes, in order; empty off the edge."""
    for port in c.ports:
        if port == "temperature_out":
            continue
        idx = c.port_indices(port)
        assert c.port_array(port).shape == idx.shape
        if idx.size:
            np.testing.assert_array_equal(idx, np.arange(idx[0], idx[-1] + 1))
    gather_port(c, [p for p in c.ports if p != "temperature_out"][0])  # covers 0..n_edge-1 once


@pytest.mark.parametrize("nodes", NODES)
@pytest.mark.parametrize("edge", list(EDGES))
def test_dirichlet_role_fed_exact_temperature_gives_exact_flux(edge: str, nodes: tuple[int, int]) -> None:
    c = build(WORLD, interface_edge=edge, interface_role="dirichlet", **{**GENERAL, "nodes": nodes})
    c.initialize()
    interface_layout_is_consistent(c)
    X, Y = grid_xy(c)
    ex, ey = c.interface_points[:, 0], c.interface_points[:, 1]
    flux = exact_flux(edge, ex, ey)
    assert np.ptp(flux) > 0.05  # varies along the edge
    np.testing.assert_allclose(gather_port(c, "flux_out"), flux, rtol=0, atol=1e-9)  # one-sided, initial
    for k in range(1, 5):
        t1 = 0.05 * k
        put(c, "temperature_in", exact(ex, ey, t1))
        c.receive("temperature_in")
        c.advance(t1)
        np.testing.assert_allclose(gather_port(c, "flux_out"), flux, rtol=0, atol=1e-9)
        np.testing.assert_allclose(gather_port(c, "temperature_out"), exact(X, Y, t1), rtol=0, atol=1e-9)
    c.finalize()


@pytest.mark.parametrize("nodes", NODES)
@pytest.mark.parametrize("edge", list(EDGES))
def test_neumann_role_fed_exact_flux_gives_exact_temperature(edge: str, nodes: tuple[int, int]) -> None:
    c = build(WORLD, interface_edge=edge, interface_role="neumann", **{**GENERAL, "nodes": nodes})
    c.initialize()
    interface_layout_is_consistent(c)
    X, Y = grid_xy(c)
    ex, ey = c.interface_points[:, 0], c.interface_points[:, 1]
    flux = exact_flux(edge, ex, ey)
    np.testing.assert_allclose(gather_port(c, "flux_in"), flux, rtol=0, atol=1e-9)  # initial gradient flux
    given = flux.copy()
    given[[0, -1]] = 1e3  # corners belong to the Dirichlet boundary: ignored
    put(c, "flux_in", given)
    for k in range(1, 5):
        c.advance(0.05 * k)
        np.testing.assert_allclose(gather_port(c, "temperature_out"), exact(X, Y, c.t), rtol=0, atol=1e-9)
        np.testing.assert_allclose(gather_port(c, "temperature_iface_out"), exact(ex, ey, c.t), rtol=0, atol=1e-9)
    c.finalize()


# Not exact: a generic field, so that distributed and serial runs could differ.
GENERIC = dict(
    constants={"alpha": 3.0, "beta": 1.2},
    boundary="1 + x**2 + alpha*y**2 + beta*t + 0.1*sin(5*x*y)",
    source="beta - 2 - 2*alpha + cos(3*x - y)",
    dt=0.03, size=(1.0, 0.5), nodes=(10, 7), ksp_rtol=1e-13,
)


@pytest.mark.parametrize("edge", list(EDGES))
@pytest.mark.parametrize("role", ["dirichlet", "neumann"])
def test_generic_run_with_save_restore_equals_serial(edge: str, role: str) -> None:
    port_in, port_out = ("temperature_in", "flux_out") if role == "dirichlet" else ("flux_in", "temperature_iface_out")
    runs = {}
    for label, comm in (("dist", WORLD), ("serial", MPI.COMM_SELF)):
        c = build(comm, interface_edge=edge, interface_role=role, **GENERIC)
        c.initialize()
        n = c.n_edge
        history = [(gather_port(c, "temperature_out"), gather_port(c, port_out))]
        for k in range(1, 4):
            data = 1.5 + 0.3 * np.sin(np.arange(n) + k)  # varies along the edge
            put(c, port_in, data)
            c.receive(port_in)
            if k == 2:  # an implicit-coupling style repeat of this window must be exact
                saved = c.save_state()
                c.advance(0.03 * k)
                first = (gather_port(c, "temperature_out"), gather_port(c, port_out))
                c.restore_state(saved)
                np.testing.assert_array_equal(gather_port(c, "temperature_out"), history[-1][0])
                np.testing.assert_array_equal(gather_port(c, port_in), data)
            c.advance(0.03 * k)
            history.append((gather_port(c, "temperature_out"), gather_port(c, port_out)))
            if k == 2:
                np.testing.assert_allclose(history[-1][0], first[0], rtol=0, atol=1e-11)
                np.testing.assert_allclose(history[-1][1], first[1], rtol=0, atol=1e-9)
        runs[label] = history
        c.finalize()
    for (u, q), (u_ref, q_ref) in zip(runs["dist"], runs["serial"], strict=True):
        np.testing.assert_allclose(u, u_ref, rtol=0, atol=1e-10 * np.max(np.abs(u_ref)))
        np.testing.assert_allclose(q, q_ref, rtol=0, atol=1e-9 * np.max(np.abs(q_ref)))
    assert np.ptp(runs["serial"][-1][1]) > 1e-2  # the interface output varies along the edge


def test_a_bad_input_on_one_rank_raises_on_every_rank() -> None:
    # A non-finite flux at one inner edge node (owned by some rank): every rank
    # raises, none is left waiting in the next collective call.
    c = build(WORLD, interface_edge="bottom", interface_role="neumann", **GENERIC)
    c.initialize()
    bad = np.zeros(c.n_edge)
    bad[c.n_edge - 2] = np.nan
    put(c, "flux_in", bad)
    with pytest.raises(msm.CouplingError, match="port 'flux_in' holds non-finite values"):
        c.advance(0.03)
    WORLD.Barrier()
    c.finalize()
