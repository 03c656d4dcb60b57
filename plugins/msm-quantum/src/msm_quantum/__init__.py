"""msm-quantum: quantum chemistry on PySCF for msmcore couplings.

``quantum.scf`` (:class:`QuantumSCF`) runs a Hartree-Fock or Kohn-Sham SCF
for a QM region and publishes its energy, forces, partial charges and dipole;
with ``embedding="electrostatic"`` the SCF feels MM point (or Gaussian)
charges and also returns the forces on them (:mod:`msm_quantum.embedding`).
PySCF is imported only when a component is built, and the modules only when
a name is first used, so discovering the plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "QuantumSCF": "msm_quantum.scf",
    "read_xyz": "msm_quantum.geometry",
    "switch": "msm_quantum.geometry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'msm_quantum' has no attribute {name!r}")
