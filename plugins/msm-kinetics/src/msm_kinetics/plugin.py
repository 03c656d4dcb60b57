"""Entry point of msm-kinetics: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterComponent


@hookimpl
def msm_register_components(register: RegisterComponent) -> None:
    """Register ``kinetics.network``."""
    from msm_kinetics.network import Network  # imported when msmcore asks, not before

    register("kinetics.network", Network)


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {"description": "reaction kinetics: Antimony/SBML networks in every cell of a field (Euler, PETSc TS)"}
