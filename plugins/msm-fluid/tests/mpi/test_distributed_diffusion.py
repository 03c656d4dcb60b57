"""fluid.diffusion distributed over MPI.COMM_WORLD equals the same run on one rank.

Run under ``mpiexec -n 2`` and ``-n 3`` (and passes on one rank). The
reference is the identical component on ``COMM_SELF`` on every rank; the
distributed result is gathered by ``port_indices``. Explicit steps differ from
serial by round-off only (a distributed MatMult sums a row's owned and ghost
parts separately): 1e-12 relative. Implicit steps are solved to rtol 1e-13,
so they agree to 1e-10 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import Diffusion
from port_gather import gather_port

WORLD = MPI.COMM_WORLD


def scatter_into(comp, port: str, whole: np.ndarray) -> None:
    """Write this rank's part of the global array ``whole`` into the port array."""
    comp.port_array(port).reshape(-1)[...] = whole.reshape(-1)[comp.port_indices(port)]


def field(shape, seed: int) -> np.ndarray:
    """A smooth-ish, deterministic field over the whole grid (the same on every rank)."""
    rng = np.random.default_rng(seed)
    return 1.0 + rng.random(shape)


CASES = {
    "1d-copy-increment": dict(shape=(30,), spacing=0.01, D=0.0405, dt=2.469136e-6 * 0.5,
                              boundary="copy-increment", initial=1e-20,
                              initial_points={3: 2.0, 14: 2.0, 15: 1.0, 26: 2.0}),
    "2d-copy-increment": dict(shape=(7, 8), spacing=(0.1, 0.2), D=1.0, dt=1e-3,
                              boundary="copy-increment", initial_points={(3, 4): 5.0, (0, 0): 1.0}),
    "2d-neumann-explicit": dict(shape=(9, 7), spacing=0.1, D=1.0, dt=2e-3,
                                initial_points={(4, 3): 10.0, (0, 6): 3.0}),
    "2d-neumann-implicit": dict(shape=(9, 7), spacing=0.1, D=1.0, dt=0.02, method="implicit",
                                ksp_rtol=1e-13, initial_points={(4, 3): 10.0, (8, 0): 3.0}),
    "2d-dirichlet-implicit": dict(shape=(8, 9), spacing=(0.1, 0.05), D=0.5, dt=0.01, method="implicit",
                                  ksp_rtol=1e-13, boundary="dirichlet", boundary_value=1.5,
                                  initial_points={(3, 4): 7.0}),
    "3d-dirichlet-explicit": dict(shape=(5, 4, 6), spacing=0.1, D=1.0, dt=1e-3,
                                  boundary="dirichlet", boundary_value=-0.5, initial=0.25,
                                  initial_points={(2, 1, 3): 4.0}),
    "3d-neumann-implicit": dict(shape=(5, 4, 6), spacing=0.1, D=1.0, dt=0.01, method="implicit",
                                ksp_rtol=1e-13, initial_points={(0, 0, 0): 4.0, 50: 2.0}),
}


def build(comm, settings: dict) -> Diffusion:
    c = Diffusion(name="d", **settings)
    c.comm = comm
    return c


def run(comp: Diffusion, steps: int, seed: int) -> np.ndarray:
    """initialize, a received state, a source, ``steps`` steps; the gathered state."""
    shape = comp.shape
    comp.initialize()
    scatter_into(comp, "source_in", field(shape, seed) - 1.5)
    for k in range(1, steps + 1):
        comp.advance(k * comp.dt)
    return gather_port(comp, "state_out")


def serial_reference(settings: dict, steps: int, seed: int) -> np.ndarray:
    ref = build(MPI.COMM_SELF, settings)
    out = run(ref, steps, seed)
    ref.finalize()
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_distributed_run_equals_serial(case: str) -> None:
    settings = CASES[case]
    tol = 1e-10 if settings.get("method") == "implicit" else 1e-12
    comp = build(WORLD, settings)
    u = comp.port_array("state_out")
    assert u.flags.c_contiguous and u.dtype == np.float64 and u.size == comp.port_indices("state_out").size
    for port in ("state_in", "source_in"):
        np.testing.assert_array_equal(comp.port_indices(port), comp.port_indices("state_out"))
    got = run(comp, 6, seed=1)
    assert comp.port_array("state_out") is u  # the same object for the whole run
    assert np.shares_memory(u, comp.state_vec.getArray(readonly=True))
    ref = serial_reference(settings, 6, seed=1)
    assert np.ptp(ref) > 1e-3  # something happened
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol * np.max(np.abs(ref)))
    comp.finalize()


@pytest.mark.parametrize("case", ["1d-copy-increment", "2d-dirichlet-implicit", "3d-neumann-implicit"])
def test_received_state_and_save_restore_are_exact(case: str) -> None:
    settings = CASES[case]
    comp = build(WORLD, settings)
    comp.initialize()
    whole = field(comp.shape, seed=7)
    scatter_into(comp, "state_in", whole)
    comp.receive("state_in")
    expected = whole.copy()
    if settings.get("boundary") == "dirichlet":  # held cells stay at boundary_value
        inner = tuple(slice(1, -1) for _ in comp.shape)
        expected = np.full(comp.shape, settings["boundary_value"])
        expected[inner] = whole[inner]
    np.testing.assert_array_equal(gather_port(comp, "state_out"), expected)
    scatter_into(comp, "source_in", field(comp.shape, seed=8))
    saved = comp.save_state()
    comp.advance(comp.t + 3 * comp.dt)
    first = gather_port(comp, "state_out")
    scatter_into(comp, "source_in", np.zeros(comp.shape))
    comp.advance(comp.t + comp.dt)  # wander off, then come back
    comp.restore_state(saved)
    np.testing.assert_array_equal(gather_port(comp, "state_out"), expected)
    np.testing.assert_array_equal(gather_port(comp, "source_in"), field(comp.shape, seed=8))
    comp.advance(comp.t + 3 * comp.dt)
    again = gather_port(comp, "state_out")
    tol = 1e-10 if settings.get("method") == "implicit" else 0.0
    np.testing.assert_allclose(again, first, rtol=0, atol=tol * np.max(np.abs(first)))
    comp.finalize()


def test_too_many_ranks_for_the_grid_is_a_clear_error() -> None:
    # copy-increment needs 2 cells per rank along a split axis: 3 cells cannot go on 2+ ranks.
    import msmcore as msm

    comp = build(WORLD, dict(shape=(3,), D=1.0, dt=1e-3, spacing=1.0, boundary="copy-increment"))
    if WORLD.Get_size() == 1:
        comp.initialize()
        return
    with pytest.raises(msm.ConfigurationError, match="cannot split a grid of shape"):
        comp.port_array("state_out")


@pytest.mark.parametrize("case", ["2d-dirichlet-implicit", "3d-dirichlet-explicit"])
def test_received_boundary_values_equal_serial(case: str) -> None:
    """boundary_low_in/boundary_high_in (held by rank 0) reach the held cells on every rank."""
    settings = CASES[case]
    dim = len(settings["shape"])
    low, high = np.arange(1.0, dim + 1), -np.arange(1.0, dim + 1)

    def go(comm) -> np.ndarray:
        comp = build(comm, settings)
        comp.initialize()
        for port, values in (("boundary_low_in", low), ("boundary_high_in", high)):
            comp.port_array(port)[...] = values[comp.port_indices(port)]
            comp.receive(port)
        for k in range(1, 5):
            comp.advance(k * comp.dt)
        out = gather_port(comp, "state_out")
        comp.finalize()
        return out

    got, ref = go(WORLD), go(MPI.COMM_SELF)
    mid = tuple([1] * dim)
    assert ref[(0,) + mid[1:]] == 1.0 and ref[mid[:-1] + (-1,)] == -float(dim)  # x low; last axis high
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10 * np.max(np.abs(ref)))
