"""Plain-numpy reference for the MUSCLE3 reaction–diffusion macro–micro problem.

This is the problem from MUSCLE3's documentation example
(``docs/source/examples/python/reaction_diffusion.py``, "Tutorial with Python"), with
its numbers:

* a 1D grid of ``n_cells = 100`` cells with spacing ``dx = 0.01``; the initial state is
  ``U = 1e-20`` everywhere except ``U = 2.0`` at cells 25, 50 and 75 (0-based);
* **macro** model: explicit diffusion with ``D = 0.0405`` and ``dt = 2.469136e-6`` up to
  ``T = 1.234568e-4`` (50 macro steps), using::

      dU[i]  = D * (U[i-1] + U[i+1] - 2 U[i]) / dx**2 * dt     (interior cells)
      dU[0]  = dU[1]
      dU[-1] = dU[-2]

* **micro** model: explicit Euler for first-order decay ``U += k U dt`` with
  ``k = -4.05e4`` and ``dt = 2.469136e-8`` over a horizon of ``2.469136e-6``
  (100 micro steps) per macro step.

Coupling order (MUSCLE3's macro–micro pattern): at each macro step the macro model sends
its current ``U`` to the micro model (O_I), the micro model runs the reaction to
completion and returns the result (O_F -> S), and the macro model then applies one
diffusion step to the *returned* ``U``.

This module depends on numpy only and is used as the ground truth both by msmcore's
example/validation tests and by the MUSCLE3 peer benchmark in ``benchmarks/muscle3_rd``.

Run ``python numpy_reference.py`` for a short summary of the result.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "initial_state",
    "laplacian_update",
    "reaction_diffusion_reference",
]

#: 0-based indices of the cells that start with a high concentration.
SPIKE_CELLS: tuple[int, ...] = (25, 50, 75)
#: Background and spike values of the initial state.
BACKGROUND: float = 1e-20
SPIKE: float = 2.0


def initial_state(n_cells: int = 100) -> np.ndarray:
    """Return the initial concentration field.

    Parameters
    ----------
    n_cells : int
        Number of grid cells; must exceed the largest spike index (75).

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n_cells,)``: ``1e-20`` everywhere, ``2.0`` at cells
        25, 50 and 75.
    """
    if n_cells <= max(SPIKE_CELLS):
        raise ValueError(
            f"n_cells={n_cells} is too small: the initial spikes sit at cells "
            f"{SPIKE_CELLS}; use n_cells > {max(SPIKE_CELLS)}"
        )
    U = np.full(n_cells, BACKGROUND, dtype=np.float64)
    U[list(SPIKE_CELLS)] = SPIKE
    return U


def laplacian_update(U: np.ndarray, D: float, dx: float, dt: float) -> np.ndarray:
    """Return the explicit diffusion increment ``dU`` for one macro step.

    Parameters
    ----------
    U : numpy.ndarray
        Current 1D state, at least 3 cells.
    D : float
        Diffusion coefficient.
    dx : float
        Grid spacing.
    dt : float
        Macro time step.

    Returns
    -------
    numpy.ndarray
        ``dU`` with ``dU[i] = D (U[i-1] + U[i+1] - 2 U[i]) / dx**2 * dt`` for interior
        cells and the boundary copies ``dU[0] = dU[1]``, ``dU[-1] = dU[-2]``, exactly
        as in MUSCLE3's example.
    """
    dU = np.empty_like(U)
    # Same operation order as MUSCLE3's example, D * laplacian(U) * dt, so that the two
    # agree to the last bit.
    dU[1:-1] = D * ((U[:-2] + U[2:] - 2.0 * U[1:-1]) / dx**2) * dt
    dU[0] = dU[1]
    dU[-1] = dU[-2]
    return dU


def reaction_diffusion_reference(
    n_cells: int = 100,
    dx: float = 0.01,
    D: float = 0.0405,
    k: float = -4.05e4,
    macro_dt: float = 2.469136e-6,
    t_end: float = 1.234568e-4,
    micro_dt: float = 2.469136e-8,
    micro_horizon: float = 2.469136e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve the coupled reaction–diffusion problem with plain numpy.

    Each macro step: the current ``U`` is handed to the micro model, which applies
    ``n_micro`` explicit Euler steps of ``U += k U micro_dt``; the macro model then
    applies one explicit diffusion step (:func:`laplacian_update`) to the returned
    ``U``.

    Step counts are integers computed once with ``round()``::

        n_macro = round(t_end / macro_dt)            # 50 for the defaults
        n_micro = round(micro_horizon / micro_dt)    # 100 for the defaults

    rather than the floating-point while-loops of MUSCLE3's example (macro
    ``while t_cur + dt <= t_max``, micro ``while t_cur + dt < t0 + t_max`` on
    accumulated times), whose step counts depend on the last bits of the time values:
    for these numbers they give 49 macro steps instead of 50, and 99 or 100 micro steps
    depending on the macro time ``t0``.

    Parameters
    ----------
    n_cells : int
        Number of grid cells.
    dx : float
        Grid spacing.
    D : float
        Diffusion coefficient of the macro model.
    k : float
        Reaction rate of the micro model (negative for decay).
    macro_dt : float
        Macro (diffusion) time step.
    t_end : float
        End time of the macro model.
    micro_dt : float
        Micro (reaction) time step.
    micro_horizon : float
        Time the micro model integrates per macro step.

    Returns
    -------
    times : numpy.ndarray
        Shape ``(n_macro + 1,)``: ``times[j] = j * macro_dt``.
    history : numpy.ndarray
        Shape ``(n_macro + 1, n_cells)``: row 0 is the initial state, row ``j`` the
        state after ``j`` macro steps (reaction then diffusion).

    Raises
    ------
    ValueError
        If a step count rounds to zero or the grid is too small.
    """
    n_macro = round(t_end / macro_dt)
    n_micro = round(micro_horizon / micro_dt)
    if n_macro < 1 or n_micro < 1:
        raise ValueError(
            "step counts must be >= 1, got "
            f"n_macro=round({t_end}/{macro_dt})={n_macro}, "
            f"n_micro=round({micro_horizon}/{micro_dt})={n_micro}; "
            "check the time settings"
        )

    U = initial_state(n_cells)
    history = np.empty((n_macro + 1, n_cells), dtype=np.float64)
    history[0] = U
    for j in range(1, n_macro + 1):
        # micro: reaction to completion on the state before the diffusion step
        V = U.copy()
        for _ in range(n_micro):
            V += k * V * micro_dt
        # macro: one diffusion step on the returned state
        U = V + laplacian_update(V, D, dx, macro_dt)
        history[j] = U
    times = np.arange(n_macro + 1, dtype=np.float64) * macro_dt
    return times, history


if __name__ == "__main__":
    _times, _history = reaction_diffusion_reference()
    _final = _history[-1]
    print(f"macro steps: {_history.shape[0] - 1}, cells: {_history.shape[1]}")
    print(f"t_final = {_times[-1]:.9e}")
    print(f"sum(U): initial {_history[0].sum():.6e}, final {_final.sum():.6e}")
    print(f"max(U) final = {_final.max():.6e} at cell {int(_final.argmax())}")
