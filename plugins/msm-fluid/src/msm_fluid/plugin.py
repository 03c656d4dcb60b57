"""Entry point of the msm-fluid plugin: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterComponent


@hookimpl
def msm_register_components(register: RegisterComponent) -> None:
    """Register ``fluid.diffusion``, ``fluid.heat``, ``fluid.navier_stokes`` and ``fluid.advection_diffusion``."""
    from msm_fluid.advection_diffusion import AdvectionDiffusion
    from msm_fluid.diffusion import Diffusion  # imported when msmcore asks, not before
    from msm_fluid.heat import Heat
    from msm_fluid.navier_stokes import NavierStokes

    register("fluid.diffusion", Diffusion)
    register("fluid.heat", Heat)
    register("fluid.navier_stokes", NavierStokes)
    register("fluid.advection_diffusion", AdvectionDiffusion)


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {"description": "continuum transport on structured PETSc DMDA grids"}
