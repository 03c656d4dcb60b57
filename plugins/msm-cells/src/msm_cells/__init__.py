"""msm-cells: off-lattice, centre-based cells for msmcore (PhysiCell-style).

The modules are imported only when a name is first used (the mechanics import
SciPy's spatial package), so discovering the plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "APOPTOTIC": "msm_cells.population",
    "NECROTIC": "msm_cells.population",
    "PhenotypeParams": "msm_cells.population",
    "Population": "msm_cells.population",
    "LiveCycle": "msm_cells.cycle",
    "PhasedCycle": "msm_cells.cycle",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'msm_cells' has no attribute {name!r}")
