"""Agent <-> grid mappings: deposit by overlap fractions (conserving), multilinear interpolation at agents."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from agent_fakes import Colony
from scipy.integrate import quad

import msmcore as msm
from msmcore.mapping.agents import cell_volumes, deposit_matrix, interpolation_matrix, radii_of
from msmcore.mapping.particles import SlabAverager, SlabGrid, relax_slab_velocities

AXES = [(np.arange(10) + 0.5) / 10, (np.arange(8) + 0.5) / 8]  # cells of 0.1 x 0.125 on [0,1]^2


@pytest.mark.parametrize("quantity", ["total", "density", "intensive"])
def test_deposit_conserves_the_total_to_round_off(quantity: str) -> None:
    rng = np.random.default_rng(3)
    n = 40
    pos = rng.uniform(-0.05, 1.05, size=(n, 2))  # some balls stick out of the grid
    radii = rng.uniform(0.0, 0.2, size=n)
    radii[:3] = [0.0, 1e-4, 0.6]  # a point, one smaller than any sample spacing, one wider than cells
    q = rng.uniform(0.5, 2.0, size=n)
    w = deposit_matrix(AXES, pos, radii, quantity=quantity, samples=6)
    grid = w @ q
    vol = cell_volumes(AXES)
    total = {"total": grid.sum(), "density": grid @ vol, "intensive": grid @ vol}[quantity]
    want = (q * math.pi * radii**2).sum() if quantity == "intensive" else q.sum()
    assert abs(total - want) <= 1e-13 * want


def test_cells_wholly_inside_a_disc_are_exact_and_cut_cells_match_the_geometric_overlap() -> None:
    # one disc of radius 0.3 about (0.5, 0.5) on cells of 0.1 x 0.125
    R, c = 0.3, np.array([[0.5, 0.5]])
    w = deposit_matrix(AXES, c, np.array([R]), samples=64).toarray()[:, 0].reshape(10, 8)
    area = math.pi * R**2
    # cell [0.4, 0.5] x [0.375, 0.5] lies wholly inside: fraction = its area / disc area, exactly
    assert w[4, 3] == pytest.approx(0.1 * 0.125 / area, rel=1e-14)
    # cell [0.7, 0.8] x [0.5, 0.625] is cut by the circle: exact overlap by quadrature of the circle's chord
    def height(x: float) -> float:
        top = math.sqrt(max(R**2 - (x - 0.5) ** 2, 0.0))
        return max(min(0.5 + top, 0.625) - 0.5, 0.0)

    exact = quad(height, 0.7, 0.8, limit=200)[0] / area
    assert w[7, 4] == pytest.approx(exact, rel=2e-3)  # 64^2 sub-samples of the cut cell


def test_deposit_refuses_agents_off_the_grid() -> None:
    with pytest.raises(msm.CouplingError, match="touch no cell"):
        deposit_matrix(AXES, np.array([[3.0, 0.5]]), np.array([0.1]), ids=np.array([7]))


def test_interpolation_at_agents_is_exact_for_a_linear_field() -> None:
    X, Y = np.meshgrid(*AXES, indexing="ij")
    field = 1.0 + 2.0 * X - 3.0 * Y
    rng = np.random.default_rng(5)
    pos = rng.uniform([AXES[0][0], AXES[1][0]], [AXES[0][-1], AXES[1][-1]], size=(25, 2))
    got = interpolation_matrix(AXES, pos) @ field.reshape(-1)
    np.testing.assert_allclose(got, 1.0 + 2.0 * pos[:, 0] - 3.0 * pos[:, 1], rtol=0, atol=1e-13)
    assert radii_of(np.array([math.pi * 4.0]), 2)[0] == pytest.approx(2.0)
    assert radii_of(np.array([4 / 3 * math.pi * 8.0]), 3)[0] == pytest.approx(2.0)


class Field2D(msm.Component):
    """A 10 x 8 grid: receives a deposited field, offers f = 1 + 2x - 3y to interpolate."""

    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        coords = {"x": AXES[0], "y": AXES[1]}
        return [msm.Port.input("deposit_in", (10, 8), coords=coords, required=False),
                msm.Port.output("f_out", (10, 8), coords=coords)]

    def initialize(self) -> None:
        X, Y = np.meshgrid(*AXES, indexing="ij")
        self.port_array("f_out")[...] = 1.0 + 2.0 * X - 3.0 * Y
        self.totals: list[float] = []

    def step(self, dt: float) -> None:
        self.totals.append(float(self.port_array("deposit_in").sum()))


class Line(msm.Component):
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("u_in", 8, coords={"x": np.arange(8.0)})]


def test_coupled_deposit_and_interpolation_follow_moving_dividing_agents() -> None:
    c = msm.Coupling()
    col = c.add("col", Colony, cap=20, die_every=6, radius=0.08)
    grid = c.add("grid", Field2D)
    c.connect("col.value_out", "grid.deposit_in", mapping="deposit", positions="col.positions_out",
              volumes="col.volumes_out")
    c.connect("grid.f_out", "col.value_in", mapping="interpolate", positions="col.positions_out")
    c.run(until=5.0, scheme=msm.Serial(order=["col", "grid"]), quiet=True)
    cells = col.agent_set("cells")
    assert grid.totals[-1] == pytest.approx(float((cells.ids + 0.5).sum()), rel=1e-13)  # conserved, these agents
    # value_in was interpolated (bilinear: exact for f) at the positions the agents had before col's last step;
    # an agent's position is a function of its id (Colony), and daughters born in that step copy the parent's row
    def f_at(ids: np.ndarray) -> np.ndarray:
        return 1.0 + 2.0 * (0.1 + 0.8 * ((ids * 0.37) % 1.0)) - 3.0 * 0.5

    got = col.port_array("value_in")
    own = np.isclose(got, f_at(cells.ids), rtol=0, atol=1e-12)
    assert own.sum() > cells.count // 2
    heirs = cells.ids[~own]
    np.testing.assert_allclose(got[~own], f_at(cells.parent_of(heirs)), rtol=0, atol=1e-12)
    with pytest.raises(msm.CouplingError, match="agents are 2D but the grid has 1 axes"):
        c2 = msm.Coupling()
        c2.add("col", Colony)
        c2.add("line", Line)
        c2.connect("col.value_out", "line.u_in", mapping="deposit", positions="col.positions_out", radius=0.1)


def test_slab_averages_and_constraint_are_dimension_neutral() -> None:
    # 2D: two particles with v = (1, 1) and (-1, -1), unit mass, k_B = 1: K_xx = K_yy = 2, so T = 4 / (2 * 2) = 1
    grid = SlabGrid(0, 0.0, 1.0, 1, cross_section=1.0)
    avg = SlabAverager(grid, dim=2)
    pos = np.array([[0.2, 0.5], [0.7, 0.5]])
    avg.add(pos, np.array([[1.0, 1.0], [-1.0, -1.0]]))
    res = avg.result()
    assert res.temperature[0] == pytest.approx(1.0, rel=1e-15) and res.stress.shape == (1, 3)
    v = np.array([[1.0, 1.0], [-1.0, 3.0]])
    means = relax_slab_velocities(v, grid.index(pos), 1.0, np.array([0]), np.array([[0.5, -1.0]]))
    np.testing.assert_allclose(means, [[0.0, 2.0]])
    np.testing.assert_allclose(v.mean(axis=0), [0.5, -1.0])  # the slab mean is now the target
    with pytest.raises(ValueError, match="2D slab averager"):
        avg.add(pos, np.zeros((2, 3)))


class Loose(msm.Component):
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("x_in", agents="cells", required=False), msm.Port.output("x_out", agents="cells")]


def test_a_follower_connected_to_no_agent_set_is_refused_before_step_1() -> None:
    c = msm.Coupling()
    c.add("col", Colony)
    c.add("f", Loose)
    with pytest.raises(msm.CouplingError, match=r"follow no agent set: 'f' ports \['x_in', 'x_out'\]"):
        c.run(until=1.0, quiet=True)


def test_yaml_connects_agents_with_a_deposit(tmp_path) -> None:
    from msmcore.config import load_config

    (tmp_path / "agents.yaml").write_text("""
components:
  col: {component: {python: agent_fakes:Colony}, cap: 12, die_every: 5}
  grid:
    component: fluid.diffusion
    shape: [8, 8]
    spacing: 0.125
    D: 0.01
    dt: 1.0
    method: implicit
    ksp_rtol: 1.0e-14
connections:
  - {from: col.value_out, to: grid.state_in, mapping: deposit, positions: col.positions_out,
     volumes: col.volumes_out, quantity: total, samples: 4}
scheme: {type: serial, order: [col, grid]}
run: {until: 4.0}
""")
    cfg = load_config(tmp_path / "agents.yaml")
    cfg.coupling.run(until=4.0, scheme=cfg.scheme, quiet=True)
    cells = cfg.coupling.components["col"].agent_set("cells")
    total = cfg.coupling.components["grid"].port_array("state_out").sum()
    assert total == pytest.approx(float((cells.ids + 0.5).sum()), rel=1e-11)  # zero-flux walls keep the sum


class Recorder2D(msm.Component):
    """The 10 x 8 grid of ``Field2D`` with declared coordinate units (``scale`` per metre); records deposits."""

    dt = msm.Setting(float, default=1.0)
    units = msm.Setting(str, default="mm")
    scale = msm.Setting(float, default=1e3)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        coords = {"x": AXES[0] * self.scale, "y": AXES[1] * self.scale}
        return [msm.Port.input("deposit_in", (10, 8), coords=coords, coord_units=self.units, required=False),
                msm.Port.output("f_out", (10, 8), coords=coords, coord_units=self.units)]

    def initialize(self) -> None:
        X, Y = np.meshgrid(*AXES, indexing="ij")  # f = 1 + 2x - 3y with x, y in metres
        self.port_array("f_out")[...] = 1.0 + 2.0 * X - 3.0 * Y
        self.received: list[np.ndarray] = []

    def step(self, dt: float) -> None:
        self.received.append(self.port_array("deposit_in").copy())


def _run_on_grid(units: str, scale: float, positions_units: str = "m") -> tuple[Any, Any]:
    """Colony (positions in ``positions_units``) deposited on and interpolated from a grid in ``units``."""
    class MetreColony(Colony):
        def declare_ports(self) -> list[msm.Port]:
            return [msm.Port.output("positions_out", agents="cells", components=2, units=positions_units)
                    if p.name == "positions_out" else p for p in super().declare_ports()]

    c = msm.Coupling()
    col = c.add("col", MetreColony, cap=20, die_every=6, radius=0.08)
    grid = c.add("grid", Recorder2D, units=units, scale=scale)
    c.connect("col.value_out", "grid.deposit_in", mapping="deposit", positions="col.positions_out",
              volumes="col.volumes_out")
    c.connect("grid.f_out", "col.value_in", mapping="interpolate", positions="col.positions_out")
    c.run(until=3.0, scheme=msm.Serial(order=["col", "grid"]), quiet=True)
    return col, grid


def test_agent_positions_and_volumes_are_converted_to_the_grids_coordinate_units() -> None:
    # Agents in metres (volumes in m^2) on a grid declared in millimetres: the deposit and the interpolation
    # must see each agent where it is (x 1e3) with its size (area x 1e6), not the bare numbers (which would
    # put every agent in one corner cell). Reference: the same agents on the same grid declared in metres.
    col_m, grid_m = _run_on_grid("m", 1.0)
    col_mm, grid_mm = _run_on_grid("mm", 1e3)
    assert len(grid_m.received) == len(grid_mm.received) == 3
    for a, b in zip(grid_m.received, grid_mm.received, strict=True):
        assert np.count_nonzero(a) > 4
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(col_mm.port_array("value_in"), col_m.port_array("value_in"), rtol=0, atol=1e-12)


def test_agent_positions_that_are_not_a_length_are_refused() -> None:
    with pytest.raises(msm.CouplingError, match=r"positions='col.positions_out' is in 's' but the grid's "
                                                r"coordinates are in 'mm'"):
        _run_on_grid("mm", 1e3, positions_units="s")
