"""Converters of ``kinetics.network`` settings, and its cell blocks under MPI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["block_range", "cell_shape", "method_variant"]


def cell_shape(value: Any) -> tuple[int, ...]:
    """Convert a ``shape`` setting: a positive int or a sequence of positive ints.

    Parameters
    ----------
    value
        ``100``, ``(100,)``, ``[10, 20]``...

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        When a dimension is not a positive integer (the setting machinery turns
        it into a :class:`msmcore.ConfigurationError`).
    """
    dims = (value,) if isinstance(value, (int, np.integer)) else value
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence) or len(dims) == 0:
        raise ValueError("expected a positive integer or a non-empty sequence of them")
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(f"dimension {d!r} is not a positive integer")
        out.append(int(d))
    return tuple(out)


def block_range(n: int, size: int, rank: int) -> tuple[int, int]:
    """The contiguous block ``[start, stop)`` of ``n`` items that ``rank`` of ``size`` holds.

    Balanced: block sizes differ by at most one, the lower ranks get the extra
    items (``n = 10`` on 3 ranks: ``[0, 4)``, ``[4, 7)``, ``[7, 10)``); a rank
    gets an empty block when ``n < size``.
    """
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def method_variant(value: Any) -> str | None:
    """Convert a ``variant`` setting: a PETSc type name, or the BDF order as an int or a string.

    ``None`` means the method's default variant.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, np.integer)):
        raise ValueError("expected a string (or an int for the BDF order)")
    return str(value).strip()
