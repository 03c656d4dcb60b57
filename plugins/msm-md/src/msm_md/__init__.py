"""msm-md: molecular dynamics on OpenMM for msmcore couplings.

``md.lj`` (:class:`LJFluid`) is a Lennard-Jones or Morse fluid in reduced
units; :mod:`msm_md.coarse` (particle-to-grid averages on slabs) and
:mod:`msm_md.constraint` (continuum velocities imposed on particles) are plain
NumPy and reusable by other particle plugins. OpenMM is imported only when a
component is initialised, and the modules only when a name is first used, so
discovering the plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LJFluid": "msm_md.lj",
    "PairPotential": "msm_md.potentials",
    "SlabAverager": "msm_md.coarse",
    "SlabAverages": "msm_md.coarse",
    "SlabGrid": "msm_md.coarse",
    "relax_slab_velocities": "msm_md.constraint",
    "slab_means": "msm_md.constraint",
    "slab_values_at_particles": "msm_md.constraint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'msm_md' has no attribute {name!r}")
