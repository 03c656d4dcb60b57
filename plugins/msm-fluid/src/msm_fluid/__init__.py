"""msm-fluid: continuum transport solvers for msmcore on PETSc DMDA grids."""

from msm_fluid.diffusion import Diffusion

__all__ = ["Diffusion"]
