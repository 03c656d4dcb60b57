"""msm-md: molecular dynamics on OpenMM for msmcore couplings.

``md.lj`` (:class:`LJFluid`) is a Lennard-Jones or Morse fluid in reduced
units; :mod:`msm_md.coarse` (particle-to-grid averages on slabs) and
:mod:`msm_md.constraint` (continuum velocities imposed on particles) are plain
NumPy and reusable by other particle plugins. OpenMM is imported only when a
component is initialised.
"""

from msm_md.coarse import SlabAverager, SlabAverages, SlabGrid
from msm_md.constraint import relax_slab_velocities, slab_means, slab_values_at_particles
from msm_md.lj import LJFluid
from msm_md.potentials import PairPotential

__all__ = [
    "LJFluid",
    "PairPotential",
    "SlabAverager",
    "SlabAverages",
    "SlabGrid",
    "relax_slab_velocities",
    "slab_means",
    "slab_values_at_particles",
]
