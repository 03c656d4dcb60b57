"""fluid.navier_stokes, an independent review: cases the other tests do not cover.

* Dimensional consistency: the cavity depends on Re = rho U L / mu only, so
  runs with the same Re from different rho, U, L, mu give the same solution
  in the scales U (velocity), U L (psi), U / L (vorticity) and rho U^2
  (pressure) — exactly, up to the Newton tolerance (asserted: 1e-8 of the scale).
* Rotation: the square cavity with the lid on the left (moving +y), bottom
  (-x) or right (-y) wall is the top-lid cavity rotated by 90, 180, 270
  degrees — the discrete equations are invariant under the rotation, so the
  fields must be the rotated ones to the Newton tolerance (asserted: 1e-7),
  the corners included.
* Hydrostatics (e.g. F. M. White, Fluid Mechanics, 7th ed., section 2.3): a
  body force with no curl in a closed box leaves the fluid at rest with
  grad p = f, i.e. p = f . x + const (uniform f), p = phi + const
  (f = grad phi); the pressure has zero mean over the nodes (documented).
  Linear/quadratic p: the discrete pressure equals it to the solver tolerance.
* Start-up of plane Couette flow (White, Viscous Fluid Flow, 3rd ed.,
  section 3-5, eq. 3-95): the bottom wall of a channel of height H moves at U
  from t = 0, u(y, t) = U (1 - y/H) - (2U/pi) sum_n sin(n pi y/H)/n
  exp(-n^2 pi^2 nu t / H^2), v = 0, p uniform. Realised with the series as
  the (time-dependent) inflow and an outflow.
* A transient cavity run long enough reaches the steady solution.
* Bad input: NaN in force_in (CouplingError naming the port), petsc_options
  with a misspelt name or an invalid value (ConfigurationError naming
  'petsc_options'), a Reynolds number too high for continuation
  (ConvergenceError naming the component and what to try).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from example_loader import load_example
from msm_fluid import NavierStokes
from petsc4py import PETSc

import msmcore as msm

_names = itertools.count()
PORTS = ("velocity_out", "streamfunction_out", "vorticity_out", "pressure_out")


def solved(**settings) -> NavierStokes:
    c = NavierStokes(name=f"rv{next(_names)}", **settings)
    c.initialize()
    c.advance(1.0)
    return c


def xy(c: NavierStokes) -> tuple[np.ndarray, np.ndarray]:
    coords = c.port("velocity_out").spec.coords
    return np.meshgrid(coords["x"], coords["y"], indexing="ij")


@pytest.mark.parametrize(("rho", "U", "L"), [(1000.0, 0.1, 1e-3), (1.2, 10.0, 100.0), (3.0, 0.5, 2.0)])
def test_same_reynolds_number_gives_the_same_scaled_solution(rho, U, L) -> None:
    re = 100.0
    for rtol in (1e-5, 1e-12):
        ref = solved(nodes=(17, 17), viscosity=1.0 / re, wall_velocity={"top": 1.0}, snes_rtol=rtol)
        c = solved(nodes=(17, 17), size=(L, L), density=rho, viscosity=rho * U * L / re, wall_velocity={"top": U},
                   snes_rtol=rtol)
        # the residual is U/L times the unit box's: the same Newton path (before the review the
        # stream-function rows were in m^2/s and the vorticity rows in 1/s: 8 steps instead of 4 at L = 100)
        assert c.newton_iterations == ref.newton_iterations, rtol
        if rtol < 1e-6:
            for port, scale in zip(PORTS, (U, U * L, U / L, rho * U * U), strict=True):
                np.testing.assert_allclose(c.port_array(port) / scale, ref.port_array(port), rtol=0, atol=1e-8,
                                           err_msg=port)
        ref.finalize()
        c.finalize()


def _rotate(c: NavierStokes, port: str, k: int) -> np.ndarray:
    """Port field of ``c`` rotated by k x 90 degrees counter-clockwise (node (i, j) = (x, y))."""
    a = c.port_array(port)
    if port != "velocity_out":
        return np.rot90(a, k)
    u, v = a[..., 0], a[..., 1]
    for _ in range(k):
        u, v = np.rot90(-v), np.rot90(u)
    return np.stack([u, v], axis=-1)


@pytest.mark.parametrize("through_port", [False, True])
def test_lid_on_another_wall_is_the_rotated_top_lid_cavity(through_port: bool) -> None:
    base = dict(nodes=(17, 17), viscosity=0.01)
    top = solved(**base, wall_velocity={"top": 1.0})
    for edge, speed, k in (("left", 1.0, 1), ("bottom", -1.0, 2), ("right", -1.0, 3)):
        if through_port:
            c = NavierStokes(name=f"rv{next(_names)}", **base)
            c.initialize()
            c.port_array("wall_velocity_in")[:] = [speed if e == edge else 0.0
                                                   for e in ("left", "right", "bottom", "top")]
            c.receive("wall_velocity_in")
            c.advance(1.0)
        else:
            c = solved(**base, wall_velocity={edge: speed})
        for port in PORTS:
            np.testing.assert_allclose(c.port_array(port), _rotate(top, port, k), rtol=0, atol=1e-7,
                                       err_msg=f"{edge} lid, {port}")
        c.finalize()
    top.finalize()


def test_curl_free_body_force_in_a_closed_box_is_hydrostatic() -> None:
    c = NavierStokes(name="hydro", nodes=(13, 9), size=(2.0, 1.0), origin=(1.0, -3.0), density=2.0,
                     viscosity=0.01, snes_rtol=1e-12, pressure_rtol=1e-13)
    c.initialize()
    X, Y = xy(c)
    f = c.port_array("force_in")
    for fx, fy, phi in ((0.3 + 0 * X, -2.0 * 9.81 + 0 * X, 0.3 * X - 2.0 * 9.81 * Y),  # gravity-like
                        (2 * X * Y, X**2, X**2 * Y)):  # f = grad(x^2 y)
        f[..., 0], f[..., 1] = fx, fy
        c.receive("force_in")
        c.advance(c.t + 1.0)
        np.testing.assert_allclose(c.port_array("velocity_out"), 0.0, rtol=0, atol=1e-10)
        np.testing.assert_allclose(c.port_array("pressure_out"), phi - phi.mean(), rtol=0, atol=1e-7)
    c.finalize()


def test_transient_cavity_reaches_the_steady_solution() -> None:
    base = dict(nodes=(13, 13), viscosity=0.01, wall_velocity={"top": 1.0})
    s = solved(**base)
    t = NavierStokes(name="rvt", **base, mode="transient", dt=2.0)
    t.initialize()
    t.advance(100.0)  # ~ 10 viscous times L^2 / nu... the slowest mode decays in ~ L^2/(2 pi^2 nu) = 5
    for port in PORTS:
        np.testing.assert_allclose(t.port_array(port), s.port_array(port), rtol=0, atol=1e-6, err_msg=port)
    s.finalize()
    t.finalize()


def test_nan_in_force_in_is_a_coupling_error_naming_the_port() -> None:
    for mode in ("steady", "transient"):
        c = NavierStokes(name="nanf", nodes=(9, 9), viscosity=0.1, mode=mode, dt=0.1)
        c.initialize()
        c.port_array("force_in")[3, 4, 0] = np.nan
        c.receive("force_in")
        with pytest.raises(msm.CouplingError, match="nanf.*force_in.*not finite"):
            c.advance(0.1)
        c.finalize()


@pytest.mark.parametrize(("options", "words"), [
    ({"ksp_type": "gmress"}, ["petsc_options", "ksp_type", "gmress"]),  # not a KSP type
    ({"snes_max_it": "ten"}, ["petsc_options", "snes_max_it"]),  # not an integer
    ({"snes_tyep": "newtonls"}, ["petsc_options", "snes_tyep", "not used"]),  # misspelt: PETSc ignores it
    ({"pc_factor_levles": 1}, ["petsc_options", "pc_factor_levles", "not used"]),
])
def test_bad_petsc_options_are_a_configuration_error(options, words) -> None:
    c = NavierStokes(name="opts", nodes=(9, 9), viscosity=0.1, wall_velocity={"top": 1.0}, petsc_options=options)
    with pytest.raises(msm.ConfigurationError) as info:
        c.initialize()
        c.advance(1.0)
    for word in words:
        assert word in str(info.value)
    c.finalize()
    assert not any(k.startswith("opts_") for k in PETSc.Options().getAll())  # nothing left behind


def test_good_petsc_options_are_accepted() -> None:
    c = solved(nodes=(9, 9), viscosity=0.1, wall_velocity={"top": 1.0},
               petsc_options={"ksp_type": "bcgs", "pc_type": "lu", "snes_linesearch_type": "basic"})
    assert c._solver.snes.getKSP().getType() == "bcgs"
    c.finalize()


def test_reynolds_number_too_high_is_a_convergence_error_with_advice() -> None:
    c = NavierStokes(name="highre", nodes=(9, 9), viscosity=1e-5, wall_velocity={"top": 1.0})
    c.initialize()
    with pytest.raises(msm.ConvergenceError, match="highre.*continuation to Re=1e\\+05.*continuation_factor"):
        c.advance(1.0)
    c.finalize()


def _couette(y: np.ndarray, t: float, U: float, H: float, nu: float, terms: int = 400) -> np.ndarray:
    """White (2006), eq. 3-95: the bottom wall moves at U from t = 0, the top one is at rest."""
    y = np.asarray(y, dtype=float)
    if t <= 0.0:
        return np.where(y <= 0.0, U, 0.0)
    n = np.arange(1, terms + 1)[:, None]
    series = np.sin(n * np.pi * y[None] / H) / n * np.exp(-(n * np.pi / H) ** 2 * nu * t)
    return U * (1.0 - y / H) - (2.0 * U / np.pi) * series.sum(axis=0)


@pytest.mark.slow
def test_start_up_of_plane_couette_flow_matches_the_series_solution() -> None:
    # channel of height H = 1 (9 x 17 and 9 x 33 nodes, length 0.5), nu = 0.1, U = 1, Crank-Nicolson,
    # the series as the inflow; at T = 0.25 (nu T / H^2 = 0.025: the layer is ~0.3 H thick).
    # Measured: max |u - u_exact| on the middle column 0.0043 (17 nodes), 0.0012 (33): second order
    # (ratio 3.5, the impulsive start limits it); tolerance 0.006 / ratio > 3. The pressure is uniform:
    # its spread was 0.29 rho U^2 before the review (the inflow's du/dt missing from the pressure's
    # Neumann data), now 0.006 and 0.0015 (second order): asserted < 0.01 and ratio > 3.
    U, H, nu, T = 1.0, 1.0, 0.1, 0.25
    errs, spreads = [], []
    for ny, dt in ((17, 0.0125), (33, 0.00625)):
        c = NavierStokes(name=f"rv{next(_names)}", nodes=(9, ny), size=(0.5, H), viscosity=nu, mode="transient",
                         dt=dt, time_scheme="crank-nicolson", boundary={"left": "inflow", "right": "outflow"},
                         wall_velocity={"bottom": U}, inflow=lambda x, y, t: _couette(y, t, U, H, nu))
        c.initialize()
        c.advance(T)
        y = c.port("velocity_out").spec.coords["y"]
        errs.append(np.abs(c.port_array("velocity_out")[4, :, 0] - _couette(y, T, U, H, nu)).max())
        spreads.append(np.ptp(c.port_array("pressure_out")))
        c.finalize()
    assert errs[0] < 0.006 and errs[0] / errs[1] > 3.0, errs
    assert spreads[0] < 0.01 and spreads[0] / spreads[1] > 3.0, spreads


# Ghia, Ghia & Shin, J. Comput. Phys. 48, 387 (1982): Re = 400 columns of Table I (u on x = 0.5 at the
# y of GHIA_Y) and Table II (v on y = 0.5 at the x of GHIA_X), and Table V (primary vortex psi and centre).
ghia = load_example("cavity", "ghia")
GHIA_Y, GHIA_U400, GHIA_X, GHIA_V400, GHIA_VORTEX400 = ghia.Y, ghia.U[400], ghia.X, ghia.V[400], ghia.VORTEX_400


def _primary_vortex(c: NavierStokes) -> tuple[float, float, float]:
    """psi_min and its (x, y), from a bicubic spline through the nodes."""
    from scipy.interpolate import RectBivariateSpline
    from scipy.optimize import minimize

    s = c.port("velocity_out").spec.coords["x"]
    psi = c.port_array("streamfunction_out")
    spline = RectBivariateSpline(s, s, psi)
    i, j = np.unravel_index(np.argmin(psi), psi.shape)
    r = minimize(lambda z: spline(z[0], z[1])[0, 0], [s[i], s[j]], method="Nelder-Mead",
                 options={"xatol": 1e-8, "fatol": 1e-12})
    return float(r.fun), float(r.x[0]), float(r.x[1])


@pytest.mark.slow
def test_cavity_re400_against_ghia() -> None:
    # 65 x 65 nodes against Ghia's Re = 400 tables; our 65-node error (against the Richardson
    # extrapolation of 33 and 65 nodes) is up to 0.022 (v_min) plus Ghia's own ~0.01 (1-2 % of the
    # extrema, Botella & Peyret 1998): tolerance 0.035. Measured: 0.019 (u), 0.017 (v). Ghia's
    # v = -0.23827 at x = 0.9063 is left out: it breaks the monotone run of their own column between
    # x = 0.9453 (-0.22847) and 0.8594 (-0.44993) (a misprint; ours there: -0.366, in that interval).
    # The primary vortex, Richardson-extrapolated from 33 and 65 nodes: psi -0.11392 against Ghia's
    # -0.113909 (tolerance 0.5 %), centre (0.5536, 0.6045) against (0.5547, 0.6055) (tolerance 0.008,
    # Ghia's grid spacing).
    from scipy.interpolate import CubicSpline

    runs = {n: solved(nodes=(n, n), viscosity=1.0 / 400.0, wall_velocity={"top": 1.0}) for n in (33, 65)}
    c = runs[65]
    s = c.port("velocity_out").spec.coords["x"]
    vel = c.port_array("velocity_out")
    u = CubicSpline(s, vel[32, :, 0])(GHIA_Y)
    v = CubicSpline(s, vel[:, 32, 1])(GHIA_X)
    assert np.abs(u - GHIA_U400).max() < 0.035
    keep = GHIA_X != 0.9063
    assert np.abs(v - GHIA_V400)[keep].max() < 0.035
    assert GHIA_V400[6] < v[~keep][0] < GHIA_V400[4]
    coarse, fine = (np.array(_primary_vortex(runs[n])) for n in (33, 65))
    psi, xc, yc = fine + (fine - coarse) / 3.0
    assert psi == pytest.approx(GHIA_VORTEX400[0], rel=5e-3)
    assert abs(xc - GHIA_VORTEX400[1]) < 0.008 and abs(yc - GHIA_VORTEX400[2]) < 0.008
    for run in runs.values():
        run.finalize()


def test_force_from_another_mesh_is_refused_on_connect() -> None:
    c = msm.Coupling()
    c.add("a", "fluid.navier_stokes", nodes=(9, 9), viscosity=0.1, wall_velocity={"top": 1.0})
    c.add("b", "fluid.navier_stokes", nodes=(9, 9), size=(2.0, 1.0), viscosity=0.1)
    with pytest.raises(msm.CouplingError, match="different meshes"):
        c.connect("a.velocity_out", "b.force_in")


def test_poiseuille_off_the_origin_has_the_textbook_pressure_gradient() -> None:
    # White, Viscous Fluid Flow, section 3-3.3: dp/dx = -12 mu U_mean / H^2 for u = 6 U_mean s (1 - s),
    # s = (y - y0) / H; the cubic psi is exact on the grid (see test_navier_stokes_exact), asserted 1e-7.
    mu, rho, H, L, Um, y0 = 1e-3, 1000.0, 0.02, 0.1, 0.01, -0.05
    c = solved(nodes=(13, 9), size=(L, H), origin=(0.3, y0), density=rho, viscosity=mu,
               boundary={"left": "inflow", "right": "outflow"}, inflow="6*Um*(y - y0)*(H - (y - y0))/H**2",
               constants={"Um": Um, "H": H, "y0": y0}, snes_rtol=1e-12, pressure_rtol=1e-13)
    X, _ = xy(c)
    G = 12 * mu * Um / H**2
    p = c.port_array("pressure_out")
    np.testing.assert_allclose(p, G * (0.3 + L - X), rtol=0, atol=1e-7 * G * L)
    assert c.port_array("streamfunction_out")[0, -1] == pytest.approx(Um * H, rel=1e-12)  # the flow rate
    c.finalize()


def test_wide_cavity_equals_the_rotated_tall_one() -> None:
    # 2:1 box, lid on top, against the 1:2 box with the lid on the left (rotated by 90 degrees):
    # the same discrete equations, so equal to the Newton tolerance (asserted 1e-7).
    wide = solved(nodes=(25, 13), size=(2.0, 1.0), viscosity=0.01, wall_velocity={"top": 1.0}, snes_rtol=1e-11)
    tall = solved(nodes=(13, 25), size=(1.0, 2.0), viscosity=0.01, wall_velocity={"left": 1.0}, snes_rtol=1e-11)
    for port in PORTS:
        np.testing.assert_allclose(tall.port_array(port), _rotate(wide, port, 1), rtol=0, atol=1e-7, err_msg=port)
    wide.finalize()
    tall.finalize()
