"""Time: splitting a span into coupling windows or sub-steps, and comparing times.

One rule serves every place that cuts time into pieces — a scheme's windows
(:func:`window_ends`), a component's sub-steps (:func:`substeps`), the sampling
of results — so they agree with each other at any time scale, from MD in
seconds (steps of 1e-15 s) to geology (steps of 3e7 s):

* a span is a whole number ``n`` of steps when it differs from ``n * step`` by
  at most :data:`STEP_TOLERANCE` of one step, plus the round-off of the times
  themselves; then the pieces are exactly ``step`` long and the last one ends
  exactly at the end of the span;
* otherwise it is cut into ``ceil(span / step)`` pieces (the windows: all of
  length ``step`` but a shorter last one; the sub-steps: equal and shorter).

Two times are the same (:func:`same_time`) when they differ by no more than
that tolerance of the step they are measured in — never by an absolute
amount, which would be far too loose for femtoseconds and far too tight for years.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from msmcore.errors import ConfigurationError

__all__ = ["STEP_TOLERANCE", "count_pieces", "same_time", "substeps", "time_tolerance", "window_ends"]

#: Fraction of a step by which a span may miss a whole number of steps.
STEP_TOLERANCE = 1e-9
_EPS = 2.220446049250313e-16


def time_tolerance(step: float, *times: float) -> float:
    """How far apart two times near ``times`` may be and still be the same, for steps of ``step``."""
    scale = max((abs(t) for t in times), default=0.0)
    return STEP_TOLERANCE * abs(step) + 8.0 * _EPS * scale


def same_time(a: float, b: float, step: float) -> bool:
    """Whether ``a`` and ``b`` are the same time, for steps of length ``step``."""
    return abs(a - b) <= time_tolerance(step, a, b)


def _check(start: float, end: float, step: float, what: str) -> None:
    for name, value in (("start", start), ("end", end), (what, step)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ConfigurationError(f"the {name} time must be a finite number, got {value!r}")
    if not step > 0:
        raise ConfigurationError(f"the {what} must be positive, got {step!r}")


def _split(start: float, end: float, step: float) -> tuple[int, bool]:
    """``(n, whole)``: the number of pieces, and whether the span is ``n`` whole steps."""
    span = end - start
    tol = time_tolerance(step, start, end)
    if span <= tol:
        return 0, True
    ratio = span / step
    n = round(ratio)
    if n >= 1 and abs(span - n * step) <= tol + _EPS * n * step:
        return n, True
    return math.ceil(ratio), False


def count_pieces(start: float, end: float, step: float) -> int:
    """How many windows (or sub-steps) of about ``step`` cover ``start`` to ``end``."""
    _check(start, end, step, "step")
    return _split(start, end, step)[0]


def substeps(t_start: float, t_end: float, dt: float) -> tuple[float, int]:
    """Step length and count to go from ``t_start`` to ``t_end`` with steps of about ``dt``.

    When the span is a whole number ``n`` of ``dt`` (see the module notes)
    that is ``(dt, n)`` — exactly ``dt``, so a coupled run repeats a
    stand-alone loop bit for bit; otherwise ``ceil(span / dt)`` equal, shorter
    steps. ``(0.0, 0)`` for an empty span (up to round-off).
    """
    _check(t_start, t_end, dt, "time step")
    n, whole = _split(t_start, t_end, dt)
    if n == 0:
        return 0.0, 0
    return (float(dt), n) if whole else ((t_end - t_start) / n, n)


def window_ends(start: float, until: float, window: float, skip: int = 0) -> Iterator[float]:
    """End times of the coupling windows from ``start`` to ``until``, one at a time.

    The ends are ``start + i * window`` (computed, not accumulated); the last
    one is exactly ``until``, and shorter than ``window`` when the span is not
    a whole number of windows. Nothing is built in advance, so any number of
    windows costs no memory (:func:`count_pieces` counts them). ``skip`` leaves
    out the first ``skip`` windows (a resumed run) without stepping through them.
    """
    _check(start, until, window, "coupling window")
    n, _ = _split(start, until, window)
    for i in range(1 + skip, n):
        yield start + i * window
    if n > skip:
        yield until
