"""Entry point of the msm-cells plugin: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterComponent


@hookimpl
def msm_register_components(register: RegisterComponent) -> None:
    """Register ``cells.agents`` by reference: nothing is imported until a coupling uses it."""
    register("cells.agents", "msm_cells.agents:Cells",
             description="off-lattice centre-based cells (PhysiCell-style mechanics, cycle, death) as an agent set")


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {
        "description": "off-lattice, centre-based cells with PhysiCell's mechanics, cycle and death models",
        "url": "http://physicell.org",
        "citation": "A. Ghaffarizadeh et al., PhysiCell, PLoS Comput. Biol. 14, e1005991 (2018)",
    }
