"""Entry point of the msm-quantum plugin: registers its components with msmcore."""

from __future__ import annotations

from msmcore import hookimpl
from msmcore.hookspecs import RegisterComponent


@hookimpl
def msm_register_components(register: RegisterComponent) -> None:
    """Register ``quantum.scf`` by reference: nothing is imported until a coupling uses it."""
    register("quantum.scf", "msm_quantum.scf:QuantumSCF",
             description="Hartree-Fock / Kohn-Sham SCF on PySCF: energy, forces, charges, dipole; "
                         "optional electrostatic embedding of MM charges")


@hookimpl
def msm_plugin_info() -> dict[str, str]:
    """Describe the plugin for ``msm plugins``."""
    return {
        "description": "quantum chemistry (HF, DFT) on PySCF, with electrostatic QM/MM embedding",
        "url": "https://pyscf.org",
        "citation": "Q. Sun et al., Recent developments in the PySCF program package, "
                    "J. Chem. Phys. 153, 024109 (2020)",
    }
