"""Counter-based random numbers keyed by (seed, agent id, step, stream).

Every random number a cell uses is a pure function of the run's ``seed``, the
cell's id, the phenotype step number and a stream index (one stream per kind
of decision: division, apoptosis, necrosis, division direction ...). Nothing
depends on the order in which cells are stored, on how many threads run, or
on how the work is split, and there is no generator state to save: a
checkpoint restores the step counter and the numbers repeat bit for bit.

The mixing function is the SplitMix64 finaliser (Steele, Lea & Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014; the output
function of Java's ``SplittableRandom``), applied in a chain
``h = mix(mix(mix(mix(seed + g) ^ id) ^ step) ^ stream)``. Each link is a
bijection of 64-bit words, so for a fixed seed, step and stream distinct ids
give distinct words. Doubles take the top 53 bits: ``(h >> 11) * 2**-53``,
uniform on [0, 1).
"""

from __future__ import annotations

import numpy as np

__all__ = ["uniform", "unit_vectors", "STREAM_DIVIDE", "STREAM_APOPTOSIS", "STREAM_NECROSIS",
           "STREAM_DIRECTION", "STREAM_PHASE"]

# One stream per kind of decision, so two decisions of one cell in one step are independent.
STREAM_DIVIDE = 1
STREAM_APOPTOSIS = 2
STREAM_NECROSIS = 3
STREAM_PHASE = 4
STREAM_DIRECTION = 8  # 8, 9, 10: the components of a division direction

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniform(seed: int, ids: np.ndarray, step: int, stream: int) -> np.ndarray:
    """One uniform number on [0, 1) per id.

    Parameters
    ----------
    seed
        The run's seed (any integer; taken modulo 2**64).
    ids
        Agent ids (int64, non-negative).
    step
        The phenotype step number (non-negative).
    stream
        Which decision the numbers are for (one of the ``STREAM_*`` constants).

    Returns
    -------
    numpy.ndarray
        float64 array shaped like ``ids``.
    """
    with np.errstate(over="ignore"):
        h = _mix(np.asarray([seed % 2**64], dtype=np.uint64) + _GOLDEN)
        h = _mix(h ^ np.asarray(ids, dtype=np.int64).astype(np.uint64))
        h = _mix(h ^ np.uint64(step % 2**64))
        h = _mix(h ^ np.uint64(stream % 2**64))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0**53)


def unit_vectors(seed: int, ids: np.ndarray, step: int, dim: int) -> np.ndarray:
    """Isotropic random unit vectors in ``dim`` (2 or 3) dimensions, one per id.

    2D: angle ``2 pi u``. 3D: ``z = 2 u1 - 1``, azimuth ``2 pi u2`` (Archimedes'
    hat-box theorem: z uniform on [-1, 1] gives a uniform point on the sphere).
    """
    u1 = uniform(seed, ids, step, STREAM_DIRECTION)
    u2 = uniform(seed, ids, step, STREAM_DIRECTION + 1)
    if dim == 2:
        a = 2.0 * np.pi * u1
        return np.stack([np.cos(a), np.sin(a)], axis=-1)
    z = 2.0 * u1 - 1.0
    s = np.sqrt(np.maximum(0.0, 1.0 - z * z))
    a = 2.0 * np.pi * u2
    return np.stack([s * np.cos(a), s * np.sin(a), z], axis=-1)
