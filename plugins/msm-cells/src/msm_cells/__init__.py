"""msm-cells: off-lattice, centre-based cells for msmcore (PhysiCell-style)."""

from __future__ import annotations

from msm_cells.cycle import LiveCycle, PhasedCycle
from msm_cells.population import APOPTOTIC, NECROTIC, PhenotypeParams, Population

__all__ = ["APOPTOTIC", "NECROTIC", "LiveCycle", "PhasedCycle", "PhenotypeParams", "Population"]
