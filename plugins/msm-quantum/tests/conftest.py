"""Shared pytest configuration and fixtures of msm-quantum's tests (atomic units throughout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

#: H2O of Szabo & Ostlund, Modern Quantum Chemistry (1989), Table 3.13: R(OH) = 1.809 bohr,
#: angle HOH = 104.52 degrees; O at the origin, H1 on x, both H in the xy plane.
R_OH, ANGLE = 1.809, np.deg2rad(104.52)
WATER = [["O", 0.0, 0.0, 0.0], ["H", R_OH, 0.0, 0.0],
         ["H", R_OH * np.cos(ANGLE), R_OH * np.sin(ANGLE), 0.0]]


def pytest_configure(config: pytest.Config) -> None:
    # Registered by msmcore's pyproject too; repeated here so the plugin's tests run on their own.
    config.addinivalue_line("markers", "slow: takes more than a few seconds (still run by make test)")


@pytest.fixture
def water() -> Callable[..., Any]:
    """Factory of ``quantum.scf`` components for the S&O water (bohr, one OpenMP thread)."""
    from msm_quantum import QuantumSCF

    def make(**settings: Any) -> Any:
        settings.setdefault("units", "bohr")
        settings.setdefault("threads", 1)  # 2 shared cores: OpenMP threads only contend
        return QuantumSCF(settings.pop("name", "qm"), atoms=WATER, **settings)

    return make


@pytest.fixture
def mm_sites() -> tuple[np.ndarray, np.ndarray]:
    """Three MM charges around the water (a TIP3P-like neutral triple): positions (bohr), charges (e)."""
    return (np.array([[4.2, 1.3, 0.4], [-3.1, 2.2, 1.1], [1.5, -3.9, 0.6]]),
            np.array([-0.834, 0.417, 0.417]))
