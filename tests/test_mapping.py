"""Tests of msmcore.mapping: data mappings between non-matching meshes.

Each test states the exact property it checks and why its tolerance is what it
is. Point sets come from hypothesis: jittered grids (one point per cell, so
points are at least 0.2 / cells apart, shuffled) and random rectilinear grids,
shifted and scaled so coordinates are not just [0, 1].
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from petsc4py import PETSc

from msmcore.errors import ConfigurationError
from msmcore.field import Field
from msmcore.mapping import Mapping, build_mapping, grid_of, mapping_between, points_of
from msmcore.ports import FieldSpec, Port

SETTINGS = settings(max_examples=30, deadline=None)

# (kind, options) for the mappings that reproduce linear fields.
LINEAR_EXACT = [
    ("linear", {}),
    ("rbf", {"basis": "thin-plate"}),
    ("rbf", {"basis": "wendland-c2", "support_radius": 0.5}),
    ("rbf", {"basis": "gaussian", "support_radius": 0.5}),
]
ALL_KINDS = [("nearest", {}), *LINEAR_EXACT]


def dense(mat: PETSc.Mat) -> np.ndarray:
    """The entries of a PETSc matrix as a NumPy array."""
    if mat.getType() == PETSc.Mat.Type.SEQDENSE:
        return mat.getDenseArray().copy()
    return mat.convert(PETSc.Mat.Type.SEQDENSE).getDenseArray().copy()


def mapped(mat: PETSc.Mat, values: np.ndarray) -> np.ndarray:
    """``mat @ values`` through PETSc's MatMult."""
    src = PETSc.Vec().createWithArray(np.ascontiguousarray(values, dtype=float))
    dst = mat.createVecLeft()
    mat.mult(src, dst)
    return dst.getArray().copy()


# ----------------------------------------------------------------- strategies
unit = st.floats(0.1, 0.9)
scales = st.sampled_from([0.1, 1.0, 7.0])
offsets = st.sampled_from([-5.0, 0.0, 3.0])


@st.composite
def scattered(draw: st.DrawFn, dim: int, max_cells: int = 5) -> np.ndarray:
    """Shuffled jittered-grid points in [offset, offset + scale]^dim."""
    cells = [draw(st.integers(2, max_cells)) for _ in range(dim)]
    idx = np.stack([g.reshape(-1) for g in np.meshgrid(*map(np.arange, cells), indexing="ij")], 1)
    jitter = draw(arrays(np.float64, idx.shape, elements=unit))
    order = draw(st.permutations(range(len(idx))))
    pts = (idx + jitter) / np.array(cells)
    return draw(offsets) + draw(scales) * pts[list(order)]


@st.composite
def rect_grid(draw: st.DrawFn, dim: int) -> tuple[np.ndarray, ...]:
    """Random rectilinear axes (2 to 6 nodes, uneven spacing, some decreasing)."""
    offset, scale = draw(offsets), draw(scales)
    axes = []
    for _ in range(dim):
        n = draw(st.integers(2, 6))
        ax = offset + scale * (np.arange(n) + draw(arrays(np.float64, n, elements=unit))) / n
        axes.append(ax[::-1] if draw(st.booleans()) else ax)
    return tuple(axes)


def tensor(axes: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.stack([g.reshape(-1) for g in np.meshgrid(*axes, indexing="ij")], 1)


@st.composite
def inside_hull(draw: st.DrawFn, pts: np.ndarray) -> np.ndarray:
    """1 to 7 random convex combinations of ``pts``: targets inside their hull."""
    m = draw(st.integers(1, 7))
    lam = draw(arrays(np.float64, (m, len(pts)), elements=st.floats(0.0, 1.0)))
    lam[:, 0] += 1e-3  # no all-zero row
    return (lam / lam.sum(1, keepdims=True)) @ pts


@st.composite
def linear_field(draw: st.DrawFn, dim: int) -> tuple[float, np.ndarray]:
    """Coefficients of f(x) = a + b . x."""
    coef = st.floats(-3.0, 3.0)
    return draw(coef), np.array([draw(coef) for _ in range(dim)])


# ------------------------------------------------------ consistency properties
@SETTINGS
@pytest.mark.parametrize("kind, opts", LINEAR_EXACT, ids=lambda v: str(v))
@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_consistent_mapping_reproduces_linear_fields(kind, opts, dim, data):
    # Property: M @ f(source) == f(target) for f = a + b.x, with targets inside
    # the source's hull (outside it, linear extrapolates constantly or by
    # nearest value, by design). Linear weights are exact barycentric
    # coordinates, so the error is a few ulps of max|f| (1e-12 leaves room for
    # coordinates up to ~10). RBF + linear polynomial has lambda = 0 for linear
    # data in exact arithmetic; the computed weights carry LU round-off times
    # the system's condition number: measured <= 7e-16 (relative to max|f|)
    # over 300 examples per case, so 1e-10 is a wide margin for solver round-off.
    src = data.draw(scattered(dim))
    tgt = data.draw(inside_hull(src))
    a, b = data.draw(linear_field(dim))
    if kind == "rbf":  # the radius scales with the points
        opts = {**opts, "support_radius": opts["support_radius"] * np.ptp(src)} \
            if "support_radius" in opts else opts
    mat = build_mapping(kind, src, tgt, **opts)
    scale = np.abs(a) + np.abs(src @ b).max() + 1.0
    tol = 1e-12 if kind == "linear" else 1e-10
    assert np.abs(mapped(mat, a + src @ b) - (a + tgt @ b)).max() <= tol * scale


@SETTINGS
@pytest.mark.parametrize("dim", [1, 2, 3])
@given(data=st.data())
def test_grid_linear_reproduces_multilinear_fields(dim, data):
    # Property: on a rectilinear source grid, interpolation is exact for
    # f = a + b.x + c * x0 * x1 * ... (multilinear) at targets inside the grid
    # box; weights are products of 1D fractions, so round-off is a few ulps of
    # max|f| (1e-12). The grid path and the scattered path (Delaunay) must
    # agree for the linear part.
    axes = data.draw(rect_grid(dim))
    src = tensor(axes)
    lo, hi = src.min(0), src.max(0)
    tgt = lo + (hi - lo) * data.draw(arrays(np.float64, (9, dim), elements=st.floats(0, 1)))
    a, b = data.draw(linear_field(dim))
    c = 0.5 if dim > 1 else 0.0
    f = lambda p: a + p @ b + c * np.prod(p, axis=1)  # noqa: E731
    mat = build_mapping("linear", src, tgt, source_grid=axes)
    scale = np.abs(f(src)).max() + 1.0
    assert np.abs(mapped(mat, f(src)) - f(tgt)).max() <= 1e-12 * scale


@SETTINGS
@given(pts=scattered(2), data=st.data())
def test_nearest_reproduces_constants_exactly(pts, data):
    # Property: every row of the nearest mapping is one 1.0, so a constant is
    # copied bit for bit (no tolerance), wherever the targets are.
    tgt = data.draw(scattered(2))
    value = data.draw(st.floats(-1e6, 1e6))
    mat = build_mapping("nearest", pts, tgt)
    assert np.array_equal(mapped(mat, np.full(len(pts), value)), np.full(len(tgt), value))


# ----------------------------------------------------------- conservation
@SETTINGS
@pytest.mark.parametrize("kind, opts", [("nearest", {}), ("linear", {}),
                                        ("rbf", {"basis": "thin-plate"})])
@pytest.mark.parametrize("dim", [1, 2])
@given(data=st.data())
def test_conservative_mapping_preserves_the_sum(kind, opts, dim, data):
    # Property: sum(M_cons @ v) == sum(v) for any v, on independent point sets
    # (M_cons = transpose of the consistent target -> source mapping, whose
    # rows sum to 1). Nearest and linear weights sum to 1 up to a few ulps:
    # 1e-12 of sum|v| (measured <= 5e-16). RBF rows sum to 1 because the
    # polynomial reproduces constants, up to solve round-off times
    # conditioning: 1e-10 (measured <= 3e-14 over 300 examples).
    src = data.draw(scattered(dim))
    tgt = data.draw(scattered(dim))
    v = data.draw(arrays(np.float64, len(src), elements=st.floats(-10, 10)))
    mat = build_mapping(kind, src, tgt, conservative=True, **opts)
    assert mat.getSize() == (len(tgt), len(src))
    tol = 1e-12 if kind != "rbf" else 1e-10
    assert abs(mapped(mat, v).sum() - v.sum()) <= tol * (np.abs(v).sum() + 1.0)


@SETTINGS
@given(src_axes=rect_grid(2), tgt_axes=rect_grid(2), data=st.data())
def test_conservative_grid_linear_preserves_the_sum(src_axes, tgt_axes, data):
    # Property: as above, through the structured path (target_grid is the
    # grid of the reverse consistent mapping); 1e-12 of sum|v| (round-off).
    src, tgt = tensor(src_axes), tensor(tgt_axes)
    v = data.draw(arrays(np.float64, len(src), elements=st.floats(-10, 10)))
    mat = build_mapping("linear", src, tgt, conservative=True, source_grid=src_axes,
                        target_grid=tgt_axes)
    assert abs(mapped(mat, v).sum() - v.sum()) <= 1e-12 * (np.abs(v).sum() + 1.0)


def test_conservative_is_the_transpose_of_the_reverse_consistent_mapping():
    # Property: the definition, entry by entry (same arithmetic: exact).
    rng = np.random.default_rng(1)
    src, tgt = rng.random((30, 2)), rng.random((12, 2))
    cons = dense(build_mapping("linear", src, tgt, conservative=True))
    reverse = dense(build_mapping("linear", tgt, src))
    assert np.array_equal(cons, reverse.T)


# ------------------------------------------------------------ matching meshes
@SETTINGS
@pytest.mark.parametrize("kind, opts", ALL_KINDS, ids=lambda v: str(v))
@pytest.mark.parametrize("conservative", [False, True])
@given(pts=scattered(2))
def test_matching_meshes_give_the_identity(kind, opts, conservative, pts):
    # Property: source == target points -> M == I. Nearest is exact; linear
    # weights at a simplex vertex are 1 and 0 up to round-off (1e-12, measured
    # <= 2e-15); the RBF matrix is Phi A^-1 restricted, the identity up to solve
    # round-off (1e-10; measured <= 1e-13 for thin-plate over 300 examples).
    if "support_radius" in opts:
        opts = {**opts, "support_radius": opts["support_radius"] * np.ptp(pts)}
    mat = build_mapping(kind, pts, pts, conservative=conservative, **opts)
    tol = {"nearest": 0.0, "linear": 1e-12, "rbf": 1e-10}[kind]
    assert np.abs(dense(mat) - np.eye(len(pts))).max() <= tol


@pytest.mark.parametrize("kind, opts", ALL_KINDS, ids=lambda v: str(v))
def test_matching_grid_gives_the_identity(kind, opts):
    # Property: same as above on a structured 2D grid (grid path for linear).
    axes = (np.linspace(0, 1, 4), np.array([0.0, 0.3, 1.0]))
    pts = tensor(axes)
    mat = build_mapping(kind, pts, pts, source_grid=axes, **opts)
    tol = {"nearest": 0.0, "linear": 0.0, "rbf": 1e-10}[kind]
    assert np.abs(dense(mat) - np.eye(len(pts))).max() <= tol


# ------------------------------------------- non-matching 1D interface example
def _sin_case(n_source: int, n_target: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Source and target nodes on [0, 1] and each mapping's values of f = sin(pi x) there."""
    xs, xt = np.linspace(0, 1, n_source), np.linspace(0, 1, n_target)
    kinds = {"nearest": {}, "linear": {"source_grid": (xs,)}, "rbf": {"basis": "thin-plate"}}
    return xs, xt, {k: mapped(build_mapping(k, xs, xt, **o), _f_sin(xs)) for k, o in kinds.items()}


def _f_sin(x: np.ndarray) -> np.ndarray:
    return np.sin(np.pi * x)


def _thin_plate_spline(xs: np.ndarray, fs: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """The textbook interpolant s(x) = Σ λ_j φ(|x - x_j|) + c0 + c1 x, φ(r) = r² log r.

    Coefficients from the saddle-point system [[Φ, P], [Pᵀ, 0]] [λ; c] = [f; 0]
    (Buhmann, "Radial Basis Functions", Cambridge 2003; Wendland,
    "Scattered Data Approximation", Cambridge 2005), solved densely here.
    """
    def phi(r: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r > 0, r**2 * np.log(np.where(r > 0, r, 1.0)), 0.0)

    n = len(xs)
    P = np.column_stack([np.ones(n), xs])
    A = np.block([[phi(np.abs(xs[:, None] - xs[None, :])), P], [P.T, np.zeros((2, 2))]])
    coef = np.linalg.solve(A, np.concatenate([fs, np.zeros(2)]))
    return phi(np.abs(xt[:, None] - xs[None, :])) @ coef[:n] + coef[n] + coef[n + 1] * xt


@pytest.mark.parametrize("n_source, n_target", [(11, 17), (21, 33)])
def test_sin_interface_mappings_equal_their_definitions(n_source, n_target):
    # f = sin(pi x) on [0, 1], uniform source nodes (h = 0.1, 0.05) -> uniform targets,
    # each mapping against its definition, computed independently here:
    xs, xt, got = _sin_case(n_source, n_target)
    fs = _f_sin(xs)
    # linear: the piecewise linear interpolant (numpy.interp), round-off only;
    np.testing.assert_allclose(got["linear"], np.interp(xt, xs, fs), rtol=0, atol=1e-14)
    # nearest: the value at a closest source node (ties, e.g. 0.25 between 0.2 and
    # 0.3, may go either way: any closest node is right), bit for bit;
    dist = np.abs(xt[:, None] - xs[None, :])
    closest = dist <= dist.min(axis=1, keepdims=True) + 1e-12
    assert all(np.any(got["nearest"][i] == fs[closest[i]]) for i in range(len(xt)))
    # rbf: the thin-plate spline with a linear polynomial (LU round-off times the
    # condition number of the saddle-point system: 1e-10).
    np.testing.assert_allclose(got["rbf"], _thin_plate_spline(xs, fs, xt), rtol=0, atol=1e-10)


def test_sin_interface_errors_follow_the_interpolation_bounds():
    # Classical error bounds on a uniform grid of spacing h (e.g. Atkinson, "An
    # Introduction to Numerical Analysis", 1989, ch. 3): nearest |e| <= max|f'| h/2
    # = pi h/2; linear |e| <= max|f''| h²/8 = pi² h²/8. The thin-plate spline with a
    # linear polynomial converges faster than linear on smooth data (Buhmann 2003).
    errors = {}
    for h, (n_source, n_target) in ((0.1, (11, 17)), (0.05, (21, 33))):
        _, xt, got = _sin_case(n_source, n_target)
        errors[h] = {k: float(np.abs(v - _f_sin(xt)).max()) for k, v in got.items()}
        assert errors[h]["nearest"] <= np.pi * h / 2
        assert errors[h]["linear"] <= np.pi**2 * h**2 / 8
        assert errors[h]["rbf"] < errors[h]["linear"] < errors[h]["nearest"]
    coarse, fine = errors[0.1], errors[0.05]
    # Nearest is first order: it shrinks when h halves (not exactly 2x: the largest
    # target-to-node distance is not exactly halved on these two grids).
    assert coarse["nearest"] / fine["nearest"] > 1.5
    # Linear is second order: the interpolation error's leading term is f''(ξ) d(h - d)/2,
    # so halving h divides it by about 4 (the targets do not sit at the same relative
    # positions on both grids: 3.5 to 4.5).
    assert 3.5 < coarse["linear"] / fine["linear"] < 4.5


# --------------------------------------------------------------- components
@pytest.mark.parametrize("kind, opts", ALL_KINDS, ids=lambda v: str(v))
@pytest.mark.parametrize("conservative", [False, True])
def test_components_are_mapped_independently(kind, opts, conservative):
    # Property: with components=2 the values are interleaved (port arrays of
    # shape (n, 2)) and component c of the result is the scalar mapping of
    # component c: the same weights, so equal to round-off of the summation
    # order (1e-13 of the values' size, ~1).
    rng = np.random.default_rng(3)
    src, tgt = rng.random((25, 2)), rng.random((18, 2))
    scalar = build_mapping(kind, src, tgt, conservative=conservative, **opts)
    pair = build_mapping(kind, src, tgt, conservative=conservative, components=2, **opts)
    assert pair.getSize() == (36, 50) and pair.getBlockSizes() == (2, 2)
    values = rng.random((25, 2))
    got = mapped(pair, values.reshape(-1)).reshape(18, 2)
    for c in range(2):
        assert np.abs(got[:, c] - mapped(scalar, values[:, c])).max() <= 1e-13


def test_mapping_between_ports_moves_field_data():
    # The whole path: FieldSpecs with coords -> Mapping -> one MatMult from the
    # output port's Field Vec into the input port's Field Vec. A 2-component
    # linear field on a 5 x 4 grid, interpolated onto 7 scattered points
    # inside it: exact to round-off (1e-12).
    xs, ys = np.linspace(0, 2, 5), np.linspace(0, 1, 4)
    out = Port.output("u", (5, 4), components=2, coords={"x": xs, "y": ys}).spec
    rng = np.random.default_rng(0)
    tp = rng.random((7, 2)) * [2, 1]
    inp = Port.input("u", 7, components=2, coords={"points": tp}).spec
    m = mapping_between(out, inp, "linear")
    assert m.kind == "linear" and m.shape == (14, 40)
    p = points_of(out)
    src = np.ascontiguousarray(np.stack([1 + p[:, 0], 2 * p[:, 1] - p[:, 0]], 1).reshape(5, 4, 2))
    dst = np.zeros((7, 2))
    fs, fd = Field(src, out, "a.u"), Field(dst, inp, "b.u")
    m.apply(fs.vec, fd.vec)
    expect = np.stack([1 + tp[:, 0], 2 * tp[:, 1] - tp[:, 0]], 1)
    assert np.abs(dst - expect).max() <= 1e-12
    assert np.abs(m(src.reshape(20, 2)) - expect).max() <= 1e-12
    with pytest.raises(ConfigurationError, match="applied to Vecs of sizes"):
        m.apply(fd.vec, fs.vec)
    fs.destroy(), fd.destroy(), m.destroy()


# ----------------------------------------------------------- points_of, grids
def test_points_of_structured_grid_is_c_order():
    # Row k of points_of is the point of flat index k of the (nx, ny) array.
    xs, ys = np.array([0.0, 1.0, 3.0]), np.array([10.0, 20.0])
    spec = FieldSpec((3, 2), coords={"x": xs, "y": ys})
    pts = points_of(spec)
    assert pts.shape == (6, 2)
    for k, (i, j) in enumerate(np.ndindex(3, 2)):
        assert tuple(pts[k]) == (xs[i], ys[j])
    assert [a.tolist() for a in grid_of(spec)] == [xs.tolist(), ys.tolist()]


def test_points_of_1d_scattered_and_curvilinear():
    xs = np.linspace(0, 1, 5)
    assert points_of(FieldSpec((5,), coords={"x": xs})).tolist() == xs[:, None].tolist()
    pts = np.random.default_rng(0).random((6, 3))
    spec = FieldSpec((6,), coords={"points": pts})
    assert np.array_equal(points_of(spec), pts) and grid_of(spec) is None
    X, Y = np.meshgrid(xs, xs[:3], indexing="ij")
    curvi = FieldSpec((5, 3), coords={"x": X + 0.1 * Y, "y": Y})
    assert points_of(curvi).shape == (15, 2) and grid_of(curvi) is None


def test_points_of_without_coords_says_what_to_do():
    with pytest.raises(ConfigurationError,
                       match=r"a mapping needs mesh coordinates on both ports: give coords= in "
                             r"Port.input/Port.output"):
        points_of(FieldSpec((4,)))


def test_points_of_rejects_coords_that_do_not_fit():
    with pytest.raises(ConfigurationError, match="do not fit the port shape"):
        points_of(FieldSpec((4, 2), coords={"x": np.arange(4.0), "y": np.arange(3.0)}))
    with pytest.raises(ConfigurationError, match=r"coords\['points'\] has shape"):
        points_of(FieldSpec((4,), coords={"points": np.zeros((5, 2))}))


# ------------------------------------------------------------ linear details
def test_linear_clamps_outside_a_grid_and_uses_nearest_outside_a_hull():
    # Grid: constant extrapolation along each axis. Scattered 2D: the nearest
    # source value outside the convex hull. Both exact (weights 1.0).
    xs = np.array([0.0, 0.5, 1.0])
    f = np.array([1.0, 2.0, 5.0])
    m = Mapping.build("linear", xs, np.array([-1.0, 0.25, 3.0]), source_grid=(xs,))
    assert m(f).tolist() == [1.0, 1.5, 5.0] and m.info["outside"] == 2
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    m = Mapping.build("linear", tri, np.array([[2.0, 0.1], [0.25, 0.25]]))
    assert np.allclose(m(np.array([1.0, 2.0, 3.0])), [2.0, 1.75], rtol=0, atol=1e-15)
    assert m.info["outside"] == 1


def test_linear_on_points_along_a_line_in_2d_interpolates_along_it():
    # Interface points on the line y = 2x (a 2D domain's boundary curve):
    # Delaunay is impossible, so the mapping works in the line's coordinate;
    # a field linear along the line is reproduced (round-off, 1e-12).
    s = np.array([0.0, 0.3, 0.45, 1.0])
    t = np.array([0.1, 0.5, 0.9])
    src, tgt = np.stack([s, 2 * s], 1), np.stack([t, 2 * t], 1)
    m = Mapping.build("linear", src, tgt)
    assert m.info["reduced_dim"] == 1
    assert np.abs(m(3 * s - 1) - (3 * t - 1)).max() <= 1e-12


def test_rbf_to_a_single_target_point_and_inputs_untouched():
    # Regression: a one-column right-hand side is both C- and F-contiguous, and
    # PETSc's createDense shares such an array instead of copying it; the solve
    # then overwrote its own right-hand side and returned zeros. A constant
    # must map to itself (1e-12) and the caller's arrays stay as they were.
    src, tgt = np.linspace(0, 1, 6), np.array([0.37])
    before = (src.copy(), tgt.copy())
    for basis in ("thin-plate", "gaussian"):
        assert abs(Mapping.build("rbf", src, tgt, basis=basis)(np.full(6, 2.5))[0] - 2.5) <= 1e-12
    assert np.array_equal(src, before[0]) and np.array_equal(tgt, before[1])


def test_wendland_reports_targets_outside_every_support(caplog):
    # A support radius below the distance to the nearest source leaves a
    # target uncovered: with the polynomial it still gets the linear fit
    # (a constant to 1e-12), and the build says so in info and in the log.
    src = np.linspace(0, 1, 5)
    m = Mapping.build("rbf", src, np.array([0.1, 0.5]), basis="wendland-c2", support_radius=0.05)
    assert m.info["uncovered"] == 1 and "have no source point within" in caplog.text
    assert np.abs(m(np.full(5, 3.0)) - 3.0).max() <= 1e-12


def test_rbf_is_solved_once_with_a_small_residual():
    rng = np.random.default_rng(5)
    m = Mapping.build("rbf", rng.random((200, 2)), rng.random((50, 2)))
    assert m.mat.getType() == PETSc.Mat.Type.SEQDENSE and m.shape == (50, 200)
    assert m.info["residual"] < 1e-12 and m.info["amplification"] >= 1.0


# -------------------------------------------------------------- error cases
def test_unknown_kind_and_basis():
    pts = np.linspace(0, 1, 4)
    with pytest.raises(ConfigurationError, match=r"unknown mapping kind 'cubic'.*'nearest'"):
        build_mapping("cubic", pts, pts)
    with pytest.raises(ConfigurationError, match=r"unknown rbf basis 'multiquadric'.*gaussian"):
        build_mapping("rbf", pts, pts, basis="multiquadric")
    with pytest.raises(ConfigurationError, match=r"unknown mapping option\(s\) \['radius'\]"):
        Mapping.build("rbf", pts, pts, radius=1.0)


def test_wendland_needs_a_support_radius():
    pts = np.linspace(0, 1, 4)
    with pytest.raises(ConfigurationError, match="'wendland-c2' .* give support_radius="):
        build_mapping("rbf", pts, pts, basis="wendland-c2")
    with pytest.raises(ConfigurationError, match="support_radius=-1.0: give a positive number"):
        build_mapping("rbf", pts, pts, basis="wendland-c2", support_radius=-1.0)


def test_dimension_mismatch_between_source_and_target():
    with pytest.raises(ConfigurationError, match="source points are 2D but target points are 3D"):
        build_mapping("nearest", np.zeros((3, 2)), np.zeros((3, 3)))


def test_rbf_degenerate_point_sets():
    with pytest.raises(ConfigurationError, match=r"source points 0 and 2 coincide"):
        build_mapping("rbf", np.array([0.0, 0.5, 0.0, 1.0]), np.array([0.2]))
    # 2 points (or 3 on a line) cannot fix a linear polynomial in 2D.
    with pytest.raises(ConfigurationError, match=r"needs at least 3 source points not all on one "
                                                 r"line \(got 2\): give polynomial=False"):
        build_mapping("rbf", np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.5, 0.5]]))
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(ConfigurationError, match="not all on one line"):
        build_mapping("rbf", line, line)
    # ...and in conservative mode the centres are the target points.
    with pytest.raises(ConfigurationError, match=r"target points"):
        build_mapping("rbf", np.random.default_rng(0).random((5, 2)), line, conservative=True)
    # Without the polynomial the same points are fine.
    m = build_mapping("rbf", line, line, polynomial=False)
    assert np.abs(dense(m) - np.eye(3)).max() <= 1e-12
    # A lone thin-plate centre gives Phi = [0]: PETSc's LU reports a zero pivot.
    with pytest.raises(ConfigurationError, match=r"could not be factored \(PETSc: .*zero pivot"):
        build_mapping("rbf", np.array([0.5]), np.array([0.2]), polynomial=False)


def test_grid_that_does_not_match_its_points():
    xs = np.linspace(0, 1, 4)
    with pytest.raises(ConfigurationError, match="source_grid .* does not match the source points"):
        build_mapping("linear", xs[:3], xs, source_grid=(xs,))
    with pytest.raises(ConfigurationError, match="grid axis 0 has repeated coordinates"):
        build_mapping("linear", np.zeros(2), xs, source_grid=(np.zeros(2),))


def test_bad_points_and_components():
    with pytest.raises(ConfigurationError, match="non-empty"):
        build_mapping("nearest", np.zeros((0, 2)), np.zeros((3, 2)))
    with pytest.raises(ConfigurationError, match="NaN"):
        build_mapping("nearest", np.array([0.0, np.nan]), np.zeros(3))
    with pytest.raises(ConfigurationError, match="components=0"):
        build_mapping("nearest", np.zeros(2), np.zeros(3), components=0)
    a = FieldSpec((3,), components=2, coords={"x": np.arange(3.0)})
    b = FieldSpec((3,), components=1, coords={"x": np.arange(3.0)})
    with pytest.raises(ConfigurationError, match="2 values per point and the target 1"):
        mapping_between(a, b)
    with pytest.raises(ConfigurationError, match="a mapping needs mesh coordinates"):
        mapping_between(a, FieldSpec((3,), components=2))


def test_linear_targets_on_the_hull_edges_are_interpolated_not_extrapolated():
    # Targets on the convex hull's edges (convex combinations of two hull
    # vertices) can land outside every triangle by round-off (hypothesis found
    # one at barycentric -4e-14); they must still be interpolated, not given
    # the nearest value: a linear field is reproduced to round-off (1e-12).
    from scipy.spatial import ConvexHull

    rng = np.random.default_rng(7)
    src = 3.0 + 0.1 * rng.random((40, 2))
    edges = ConvexHull(src).simplices
    s = rng.random((len(edges), 25, 1))
    tgt = (s * src[edges[:, 0]][:, None] + (1 - s) * src[edges[:, 1]][:, None]).reshape(-1, 2)
    m = Mapping.build("linear", src, tgt)
    assert m.info["outside"] == 0
    assert np.abs(m(src @ [1.0, -2.0]) - tgt @ [1.0, -2.0]).max() <= 1e-12


def test_batched_barycentric_transforms_match_scipy():
    # The batched transform the linear mapping installs equals SciPy's own
    # (same formula; 1e-8 relative leaves room for thin triangles' round-off).
    from scipy.spatial import Delaunay

    from msmcore.mapping.linear import _set_transforms

    pts = np.random.default_rng(2).random((60, 2))
    mine = Delaunay(pts)
    _set_transforms(mine)
    ref = Delaunay(pts).transform
    assert np.allclose(mine.transform, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())
