"""msm-md: molecular dynamics on OpenMM for msmcore couplings.

``md.lj`` (:class:`LJFluid`) is a Lennard-Jones or Morse fluid in reduced
units; ``md.openmm`` (:class:`OpenMMSystem`) any OpenMM system, with a QM
region and QM/MM ports; the particle-to-grid averages on slabs and the grid-to-particle velocity
constraint it uses live in :mod:`msmcore.mapping.particles`, reusable by other
particle plugins. OpenMM is imported only when a
component is initialised, and the modules only when a name is first used, so
discovering the plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LJFluid": "msm_md.lj",
    "OpenMMSystem": "msm_md.openmm_component",
    "PairPotential": "msm_md.potentials",
    "SlabAverager": "msmcore.mapping.particles",
    "SlabAverages": "msmcore.mapping.particles",
    "SlabGrid": "msmcore.mapping.particles",
    "relax_slab_velocities": "msmcore.mapping.particles",
    "slab_means": "msmcore.mapping.particles",
    "slab_values_at_particles": "msmcore.mapping.particles",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'msm_md' has no attribute {name!r}")
