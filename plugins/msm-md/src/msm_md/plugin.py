"""Entry point of the msm-md plugin: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterComponent


@hookimpl
def msm_register_components(register: RegisterComponent) -> None:
    """Register ``md.lj`` and ``md.openmm`` by reference: nothing is imported until a coupling uses it."""
    register("md.lj", "msm_md.lj:LJFluid",
             description="Lennard-Jones (or Morse) fluid in a box on OpenMM, slab-averaged fields and constraints")
    register("md.openmm", "msm_md.openmm_component:OpenMMSystem",
             description="any OpenMM system (PDB/mmCIF + force-field XML, or a System XML); QM/MM ports")


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {
        "description": "molecular dynamics of Lennard-Jones / Morse fluids on OpenMM, coarse-grained on slabs",
        "url": "https://openmm.org",
        "citation": "P. Eastman et al., OpenMM 8, J. Phys. Chem. B 128, 109 (2024)",
    }
