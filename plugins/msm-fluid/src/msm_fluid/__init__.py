"""msm-fluid: continuum transport solvers for msmcore on PETSc DMDA grids."""

from msm_fluid.advection_diffusion import AdvectionDiffusion
from msm_fluid.diffusion import Diffusion
from msm_fluid.heat import Heat
from msm_fluid.navier_stokes import NavierStokes

__all__ = ["AdvectionDiffusion", "Diffusion", "Heat", "NavierStokes"]
