"""Mappings between non-matching meshes, each built once as a PETSc ``Mat``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from petsc4py import PETSc

from msmcore.errors import ConfigurationError
from msmcore.mapping.linear import grid_weights, scattered_weights
from msmcore.mapping.mesh import grid_of, points_of
from msmcore.mapping.nearest import nearest_weights
from msmcore.mapping.rbf import BASES, rbf_weights
from msmcore.ports import FieldSpec

__all__ = ["KINDS", "Mapping", "build_mapping", "mapping_between"]

KINDS = ("nearest", "linear", "rbf")

Grid = Sequence[np.ndarray]


def _points(name: str, pts: Any) -> np.ndarray:
    arr = np.asarray(pts, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ConfigurationError(
            f"{name} points have shape {np.shape(pts)}: give a non-empty (n, dim) array "
            "(or a 1D array of n coordinates)"
        )
    if not np.all(np.isfinite(arr)):
        raise ConfigurationError(f"{name} points contain NaN or infinite coordinates")
    return arr


def _grid(name: str, grid: Grid | None, pts: np.ndarray) -> tuple[np.ndarray, ...] | None:
    if grid is None:
        return None
    axes = tuple(np.asarray(a, dtype=np.float64).reshape(-1) for a in grid)
    expect = np.stack([m.reshape(-1) for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    if expect.shape != pts.shape or not np.allclose(expect, pts, rtol=1e-12, atol=0.0):
        raise ConfigurationError(
            f"{name}_grid (axes of lengths {[len(a) for a in axes]}) does not match the {name} "
            f"points (shape {pts.shape}): the points must be the C-order tensor product of the "
            f"axes; give {name}_grid=None for scattered points"
        )
    return axes


def _weights(kind: str, src: np.ndarray, tgt: np.ndarray, grid: tuple[np.ndarray, ...] | None,
             role: str, opts: dict[str, Any]) -> tuple[sp.csr_matrix | np.ndarray, dict[str, Any]]:
    """Consistent weights (n_tgt, n_src) from ``src`` to ``tgt``."""
    if kind == "nearest":
        return nearest_weights(src, tgt)
    if kind == "linear":
        return grid_weights(grid, tgt) if grid is not None else scattered_weights(src, tgt)
    return rbf_weights(src, tgt, role=role, **opts)


def _to_petsc(w: sp.spmatrix | np.ndarray, components: int) -> PETSc.Mat:
    """The PETSc ``Mat`` of ``w`` (kron ``I_components`` for interleaved components)."""
    comm = PETSc.COMM_SELF
    if isinstance(w, np.ndarray) and components == 1:
        # PETSc dense storage is column-major; the Mat keeps this array alive.
        mat = PETSc.Mat().createDense(w.shape, array=np.asfortranarray(w), comm=comm)
        mat.assemble()
        return mat
    csr = sp.csr_matrix(w)
    if components > 1:
        csr = sp.kron(csr, sp.identity(components, format="csr"), format="csr")
    csr.sort_indices()
    it = PETSc.IntType
    mat = PETSc.Mat().createAIJ(
        csr.shape, bsize=components,
        csr=(csr.indptr.astype(it), csr.indices.astype(it), csr.data.astype(PETSc.ScalarType)),
        comm=comm,
    )
    mat.assemble()
    return mat


def _build(kind: str, source_points: Any, target_points: Any, *, conservative: bool,
           components: int, source_grid: Grid | None, target_grid: Grid | None, basis: str,
           support_radius: float | None, polynomial: bool) -> tuple[PETSc.Mat, dict[str, Any]]:
    kind = str(kind).lower()
    if kind not in KINDS:
        raise ConfigurationError(f"unknown mapping kind {kind!r}: choose one of {list(KINDS)}")
    src = _points("source", source_points)
    tgt = _points("target", target_points)
    if src.shape[1] != tgt.shape[1]:
        raise ConfigurationError(
            f"source points are {src.shape[1]}D but target points are {tgt.shape[1]}D: give both "
            "point sets in the same coordinates (same number of columns)"
        )
    if not isinstance(components, (int, np.integer)) or components < 1:
        raise ConfigurationError(f"components={components!r}: give a positive integer")
    sgrid = _grid("source", source_grid, src)
    tgrid = _grid("target", target_grid, tgt)
    opts: dict[str, Any] = {}
    if kind == "rbf":
        basis = str(basis).lower().replace("_", "-")
        if basis not in BASES:
            raise ConfigurationError(f"unknown rbf basis {basis!r}: choose one of {list(BASES)}")
        if basis == "wendland-c2" and support_radius is None:
            raise ConfigurationError(
                "rbf basis 'wendland-c2' has compact support: give support_radius= (a few times "
                "the point spacing, so every point has several neighbours inside it)"
            )
        if support_radius is not None and not (np.isfinite(support_radius) and support_radius > 0):
            raise ConfigurationError(f"support_radius={support_radius!r}: give a positive number")
        opts = {"basis": basis, "support_radius": support_radius, "polynomial": bool(polynomial)}
    if conservative:  # transpose of the consistent mapping target -> source
        w, info = _weights(kind, tgt, src, tgrid, "target", opts)
        w = w.T
    else:
        w, info = _weights(kind, src, tgt, sgrid, "source", opts)
    info = {**opts, **info}
    return _to_petsc(w, int(components)), info


def build_mapping(
    kind: str,
    source_points: np.ndarray,
    target_points: np.ndarray,
    *,
    conservative: bool = False,
    components: int = 1,
    source_grid: Grid | None = None,
    target_grid: Grid | None = None,
    basis: str = "thin-plate",
    support_radius: float | None = None,
    polynomial: bool = True,
) -> PETSc.Mat:
    """Build the matrix of a data mapping between two point sets, once.

    Parameters
    ----------
    kind
        ``"nearest"`` (nearest source point, by k-d tree), ``"linear"``
        (multilinear on a rectilinear ``source_grid``, clamped outside it;
        barycentric on a Delaunay triangulation of scattered points, nearest
        outside their hull; sorted linear for scattered 1D points) or ``"rbf"``
        (global radial basis function interpolation).
    source_points, target_points
        ``(n_source, dim)`` and ``(n_target, dim)`` coordinates (1D arrays are
        read as ``dim = 1``), e.g. from :func:`points_of`.
    conservative
        ``False``: consistent (interpolates values; rows sum to 1 for nearest
        and linear, so constants are kept). ``True``: the transpose of the
        consistent mapping target -> source, which preserves the sum of the
        values (fluxes, forces, amounts).
    components
        Values per point, interleaved as in a ``(..., components)`` port array;
        each component is mapped independently (the matrix is
        ``W kron I_components``, with block size ``components``).
    source_grid, target_grid
        Axis coordinates of the source (target) points when they form a
        rectilinear grid: used by ``"linear"`` (``target_grid`` when
        ``conservative``); they must match the points.
    basis
        RBF basis: ``"thin-plate"`` (``r**2 log r``), ``"gaussian"`` or
        ``"wendland-c2"`` (compact support, needs ``support_radius``).
    support_radius
        Wendland C2 support; the Gaussian's decay-to-1e-9 radius (default 8x
        the mean nearest-neighbour spacing).
    polynomial
        RBF only: add a linear polynomial so constants and linear fields are
        reproduced exactly (needs ``dim + 1`` points not on one hyperplane).

    Returns
    -------
    petsc4py.PETSc.Mat
        ``(n_target * components, n_source * components)`` on
        ``PETSc.COMM_SELF``: AIJ for nearest and linear (and any mapping with
        ``components > 1``), dense for RBF; ``target = M @ source``.

    Raises
    ------
    ConfigurationError
        Unknown kind or basis, missing Wendland radius, points of different
        dimensions, a grid that does not match its points, coincident points
        or too few points for the RBF polynomial.
    """
    return _build(kind, source_points, target_points, conservative=conservative,
                  components=components, source_grid=source_grid, target_grid=target_grid,
                  basis=basis, support_radius=support_radius, polynomial=polynomial)[0]


@dataclass
class Mapping:
    """A built mapping: its PETSc ``Mat`` and how it was made.

    Attributes
    ----------
    mat
        ``(n_target * components, n_source * components)`` PETSc matrix.
    kind, conservative, components
        As given to :func:`build_mapping`.
    info
        What the build found: e.g. ``outside`` (targets extrapolated),
        ``max_distance`` (nearest), ``support_radius``, ``residual`` and
        ``amplification`` (rbf).
    """

    mat: PETSc.Mat
    kind: str
    conservative: bool = False
    components: int = 1
    info: dict[str, Any] = field(default_factory=dict)
    #: ``(target components, component)`` when the mapping writes one value-component
    #: of a multi-component target only (the others must be left as they are).
    target_only: tuple[int, int] | None = None

    @classmethod
    def build(cls, kind: str, source_points: np.ndarray, target_points: np.ndarray,
              **options: Any) -> Mapping:
        """Build a mapping between point sets (``options`` as :func:`build_mapping`)."""
        kw: dict[str, Any] = {"conservative": False, "components": 1, "source_grid": None, "target_grid": None,
              "basis": "thin-plate", "support_radius": None, "polynomial": True}
        unknown = sorted(set(options) - set(kw))
        if unknown:
            raise ConfigurationError(f"unknown mapping option(s) {unknown}: use {sorted(kw)}")
        kw.update(options)
        mat, info = _build(kind, source_points, target_points, **kw)
        return cls(mat, str(kind).lower(), bool(kw["conservative"]), int(kw["components"]), info)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_target * components, n_source * components)``."""
        rows, cols = self.mat.getSize()
        return int(rows), int(cols)

    def apply(self, source: PETSc.Vec, target: PETSc.Vec) -> None:
        """One exchange: ``target = M @ source`` (a single ``MatMult``).

        Parameters
        ----------
        source, target
            Vecs of the source and target fields (e.g. ``Field.vec``).
        """
        if source.getSize() != self.shape[1] or target.getSize() != self.shape[0]:
            raise ConfigurationError(
                f"{self.kind} mapping of shape {self.shape} applied to Vecs of sizes "
                f"{source.getSize()} -> {target.getSize()}: the fields do not match the "
                "points the mapping was built for"
            )
        self.mat.mult(source, target)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Map a NumPy array of source values (``(n_source,)`` or ``(n_source, components)``)."""
        values = np.ascontiguousarray(values, dtype=PETSc.ScalarType)
        if values.size != self.shape[1]:
            raise ConfigurationError(
                f"{values.size} source values given to a mapping that takes {self.shape[1]}"
            )
        out = np.zeros(self.shape[0], dtype=PETSc.ScalarType)
        src = PETSc.Vec().createWithArray(values.reshape(-1), comm=PETSc.COMM_SELF)
        dst = PETSc.Vec().createWithArray(out, comm=PETSc.COMM_SELF)
        try:
            self.mat.mult(src, dst)
        finally:
            src.destroy(), dst.destroy()
        return out.reshape(-1, self.components) if self.components > 1 else out

    def destroy(self) -> None:
        """Release the PETSc matrix."""
        self.mat.destroy()


def mapping_between(source: FieldSpec, target: FieldSpec, kind: str = "nearest",
                    **options: Any) -> Mapping:
    """Build the mapping between two ports' meshes from their ``FieldSpec``.

    Parameters
    ----------
    source, target
        Field descriptions of the output and input ports, both with ``coords``.
    kind
        ``"nearest"``, ``"linear"`` or ``"rbf"``.
    **options
        ``conservative``, ``basis``, ``support_radius``, ``polynomial`` as for
        :func:`build_mapping`; grids and components come from the specs.

    Returns
    -------
    Mapping
        Shaped ``(target.size, source.size)``, the layout of the port arrays.
    """
    if source.components != target.components:
        raise ConfigurationError(
            f"the source port has {source.components} values per point and the target "
            f"{target.components}: a mapping keeps the components; make them equal"
        )
    return Mapping.build(kind, points_of(source), points_of(target), components=source.components,
                         source_grid=grid_of(source), target_grid=grid_of(target), **options)


def select_components(mapping: Mapping, source_components: int, target_components: int,
                      source_component: int, target_component: int) -> Mapping:
    """A point mapping (one value per point) placed on one value-component of each side.

    Entry ``W[p, q]`` moves to row ``p * target_components + target_component`` and
    column ``q * source_components + source_component`` of a ``SEQAIJ`` matrix over
    the ports' full value layouts.
    """
    indptr, cols, vals = _csr(mapping.mat)
    rows_per = np.diff(indptr)
    n_t, n_s = mapping.mat.getSize()
    new_rows = np.repeat(np.arange(n_t) * target_components + target_component, rows_per)
    new_cols = np.asarray(cols) * source_components + source_component
    shape = (n_t * target_components, n_s * source_components)
    counts = np.bincount(new_rows, minlength=shape[0])
    new_indptr = np.concatenate([[0], np.cumsum(counts)]).astype(PETSc.IntType)
    mat = PETSc.Mat().createAIJ(shape, csr=(new_indptr, new_cols.astype(PETSc.IntType), np.asarray(vals)),
                                comm=PETSc.COMM_SELF)
    mat.assemble()
    only = (target_components, target_component) if target_components > 1 else None
    return Mapping(mat, mapping.kind, mapping.conservative, 1, dict(mapping.info), only)


def _csr(mat: PETSc.Mat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if mat.getType() not in (PETSc.Mat.Type.SEQAIJ, PETSc.Mat.Type.AIJ):
        mat = mat.convert(PETSc.Mat.Type.SEQAIJ, PETSc.Mat())
    indptr, cols, vals = mat.getValuesCSR()
    return indptr, cols, vals
