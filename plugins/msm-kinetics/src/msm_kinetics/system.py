"""The network's ODE compiled for a block of cells: rates, right-hand side, Jacobian.

Every cell obeys the same ODE (:class:`~msm_kinetics.model.KineticModel`), so one
:class:`CellSystem` evaluates all the cells of a block at once: the state is an
array ``X`` of shape ``(ncells, nspecies)`` (cell-major, as in the ports and in
PETSc's block vectors), each expression is evaluated once over the column
``X[:, s]`` of every species it reads, and Python loops run over the network's
reactions, species and Jacobian entries - never over cells. One cell is
evaluated on Python floats instead of length-1 arrays (the same IEEE operations,
several times less overhead; elementary functions such as ``exp`` go through
NumPy either way).

The Jacobian ``J = df/dx`` of one cell is ``nspecies x nspecies`` with the
sparsity :attr:`CellSystem.pattern` (structural non-zeros of the analytic
derivative, plus the whole diagonal so that ``shift*I - J`` fits the same
pattern); over a block it is block-diagonal, one such block per cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from msm_kinetics.expressions import ZERO, Const, Expr, Op, Var, add, compile_expr, diff, product
from msm_kinetics.model import KineticModel

__all__ = ["CellSystem"]


class CellSystem:
    """Compiled evaluators of one network (see the module docs).

    Parameters
    ----------
    model
        The network, species in the order of the state's columns.
    """

    def __init__(self, model: KineticModel) -> None:
        self.model = model
        self._euler_cache: tuple[Any, ...] | None = None
        self.nspecies = ns = len(model.species)
        self.nreactions = len(model.reactions)
        self._rate_fns = [compile_expr(e) for e in model.rate_laws]
        #: per reaction, (k, factor species) when its law is a plain product k*X*Y..., else None
        self._products = [_plain_product(e) for e in model.rate_laws]
        coef = model.coefficients
        #: per species: ((reaction, coefficient), ...) over the non-zero coefficients
        self.terms: tuple[tuple[tuple[int, float], ...], ...] = tuple(
            tuple((int(j), float(coef[s, j])) for j in np.flatnonzero(coef[s])) for s in range(ns))
        self._rule_fns = {s: compile_expr(e) for s, e in model.rate_rules.items()}
        # Jacobian entries: d f_s / d x_q = sum_j coef[s, j] dv_j/dx_q (+ d rule_s / dx_q)
        derivatives: dict[tuple[int, int], Expr] = {}

        def d_rate(j: int, q: int) -> Expr:
            key = (j, q)
            if key not in derivatives:
                derivatives[key] = diff(model.rate_laws[j], q)
            return derivatives[key]

        entries: list[tuple[int, int, Expr]] = []
        for s in range(ns):
            for q in range(ns):
                parts = [product(Const(c), d_rate(j, q)) for j, c in self.terms[s]]
                if s in model.rate_rules:
                    parts.append(diff(model.rate_rules[s], q))
                expr = add(*parts)
                if s == q or expr != ZERO:
                    entries.append((s, q, expr))
        #: (row, column) of each stored entry of one cell's Jacobian, row-major
        self.pattern: tuple[tuple[int, int], ...] = tuple((s, q) for s, q, _ in entries)
        #: the entries' expressions (for inspection and tests)
        self.jacobian_exprs: tuple[Expr, ...] = tuple(e for _, _, e in entries)
        self._jac_fns = [compile_expr(e) for _, _, e in entries]
        #: positions of the diagonal entries in :attr:`pattern`
        self.diagonal = np.array([k for k, (s, q) in enumerate(self.pattern) if s == q], dtype=np.intp)

    @property
    def nnz(self) -> int:
        """Stored entries per cell block."""
        return len(self.pattern)

    # -- evaluation ---------------------------------------------------------------------
    def columns(self, X: np.ndarray) -> list[Any]:
        """The species of block ``X`` (cells x species) as the evaluators take them."""
        if X.shape[0] == 1:
            return X[0].tolist()  # Python floats
        return [X[:, s] for s in range(self.nspecies)]

    def rate_values(self, cols: Sequence[Any], t: float) -> list[Any]:
        """Each reaction's rate (array over cells, or scalar when it reads no species)."""
        return [f(cols, t) for f in self._rate_fns]

    def rates(self, X: np.ndarray, t: float, R: np.ndarray) -> None:
        """Write the rates at state ``X`` into ``R`` (cells x reactions)."""
        cols = self.columns(X)
        for j, f in enumerate(self._rate_fns):
            R[:, j] = f(cols, t)

    def rhs(self, X: np.ndarray, t: float, F: np.ndarray) -> None:
        """Write ``f(X, t)`` (cells x species) into ``F``.

        Each species sums ``coefficient * rate`` over its non-zero coefficients
        only, so a reaction whose rate overflows leaves the species it does not
        change finite.
        """
        cols = self.columns(X)
        r = self.rate_values(cols, t)
        single = X.shape[0] == 1
        out: list[Any] = []
        for s, terms in enumerate(self.terms):
            acc: Any = 0.0
            for k, (j, c) in enumerate(terms):
                term = r[j] if c == 1.0 else (-r[j] if c == -1.0 else r[j] * c)
                acc = term if k == 0 else acc + term
            rule = self._rule_fns.get(s)
            if rule is not None:
                acc = acc + rule(cols, t)
            if single:
                out.append(acc)
            else:
                F[:, s] = acc
        if single:
            F[0] = out

    def jacobian(self, X: np.ndarray, t: float, V: np.ndarray) -> None:
        """Write the stored Jacobian entries at ``X`` into ``V`` (cells x :attr:`nnz`)."""
        cols = self.columns(X)
        if X.shape[0] == 1:
            V[0] = [f(cols, t) for f in self._jac_fns]
            return
        for k, f in enumerate(self._jac_fns):
            V[:, k] = f(cols, t)

    def euler_step(self, X: np.ndarray, t: float, dt: float, R: np.ndarray) -> None:
        """One explicit Euler step of length ``dt`` in place; ``R`` receives the rates at the start.

        ``X[:, s] += sum_j R[:, j] * (coefficient_sj * dt)`` over the non-zero
        coefficients, the rates all computed before any species changes. With
        coefficient -1 this rounds exactly like MUSCLE3's ``U += k * U * dt``
        for ``k < 0`` (negation is exact).
        """
        if X.shape[0] > 1 and not self._rule_fns:
            self._euler_step_cells(X, t, dt, R)
            return
        cols = self.columns(X)
        rules = {s: f(cols, t) for s, f in self._rule_fns.items()}
        for j, f in enumerate(self._rate_fns):
            R[:, j] = f(cols, t)
        for s, terms in enumerate(self.terms):
            if not terms and s not in rules:
                continue
            dc: Any = 0.0
            for k, (j, c) in enumerate(terms):
                term = R[:, j] * (c * dt)
                dc = term if k == 0 else dc + term
            if s in rules:
                dc = dc + rules[s] * dt
            X[:, s] += dc

    def _euler_step_cells(self, X: np.ndarray, t: float, dt: float, R: np.ndarray) -> None:
        """:meth:`euler_step` over many cells with column views built once per (X, R) pair.

        The same operations in the same order as the general path (bit-identical),
        without re-slicing the arrays and allocating temporaries every step.
        """
        cache = self._euler_cache
        if cache is None or cache[0] is not X or cache[1] is not R:
            cols = self.columns(X)
            cache = (X, R, cols, [R[:, j] for j in range(R.shape[1])], np.empty(X.shape[0]))
            self._euler_cache = cache
        _, _, cols, rcols, scratch = cache
        for j, f in enumerate(self._rate_fns):
            plain = self._products[j]
            if plain is None:
                rcols[j][...] = f(cols, t)
                continue
            # k * X * Y ... multiplied left to right, as the compiled law does, into the column.
            k, factors = plain
            np.multiply(k, cols[factors[0]], out=rcols[j])
            for q in factors[1:]:
                np.multiply(rcols[j], cols[q], out=rcols[j])
        for s, terms in enumerate(self.terms):
            if not terms:
                continue
            j0, c0 = terms[0]
            np.multiply(rcols[j0], c0 * dt, out=scratch)
            for j, c in terms[1:]:
                scratch += rcols[j] * (c * dt)
            cols[s] += scratch


def _plain_product(e: Expr) -> tuple[float, tuple[int, ...]] | None:
    """``(k, species)`` when ``e`` is ``k * X * Y ...`` (a constant first, then species), else ``None``."""
    if isinstance(e, Op) and e.op == "mul" and len(e.args) >= 2 and isinstance(e.args[0], Const) \
            and all(isinstance(a, Var) for a in e.args[1:]):
        return e.args[0].value, tuple(a.index for a in e.args[1:])  # type: ignore[union-attr]
    return None
