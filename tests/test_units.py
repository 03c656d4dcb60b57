"""Units parsing, compatibility and conversion factors (exact SI definitions)."""

from __future__ import annotations

import pytest

import msmcore as msm
from msmcore.units import conversion_factor, parse_unit


@pytest.mark.parametrize(("src", "dst", "factor"), [
    ("mol/m^3", "mM", 1.0),            # 1 mM = 1 mol/m^3
    ("mol/L", "mol/m^3", 1e3),
    ("m^2/s", "cm^2/s", 1e4),
    ("kJ/mol", "J/mol", 1e3),
    ("1/s", "Hz", 1.0),
    ("nm", "angstrom", 10.0),
    ("kg*m/s^2", "N", 1.0),
    ("kg m s^-2", "N", 1.0),
    ("bar", "Pa", 1e5),
    ("min", "s", 60.0),
    ("cells", "cells", 1.0),           # equal labels need no parsing
])
def test_conversion_factors(src, dst, factor):
    assert conversion_factor(src, dst) == pytest.approx(factor, rel=1e-15)


def test_dimension_mismatch_and_unknown_symbol():
    with pytest.raises(msm.ConfigurationError, match="'m' \\(m\\) and 's' \\(s\\) have different dimensions"):
        conversion_factor("m", "s")
    with pytest.raises(msm.ConfigurationError, match="unknown unit symbol 'furlong'"):
        parse_unit("furlong/s")


def test_dimension_text():
    assert parse_unit("J/mol/K").dimension() == "m^2 kg s^-2 mol^-1 K^-1"
    assert parse_unit("1").dimension() == "dimensionless"


# CODATA 2018 (NIST SP 961, 2019): E_h = 4.3597447222071e-18 J, a0 = 5.29177210903e-11 m,
# N_A = 6.02214076e23 /mol, e = 1.602176634e-19 C, atomic unit of dipole e a0 = 2.541746473 D
# (8.4783536255e-30 C m / 3.33564095198e-30 C m). Hartree per molecule in kJ/mol: E_h N_A = 2625.4996395.
@pytest.mark.parametrize(("src", "dst", "factor", "rel"), [
    ("Eh/molecule", "kJ/mol", 2625.4996394799, 1e-12),
    ("hartree/molecule", "kcal/mol", 627.5094740631, 1e-12),
    ("Eh/bohr/molecule", "kJ/mol/nm", 2625.4996394799 / 0.0529177210903, 1e-12),
    ("bohr", "nm", 0.0529177210903, 1e-15),
    ("bohr", "angstrom", 0.529177210903, 1e-15),
    ("Eh", "eV", 27.211386245988, 1e-12),
    ("e", "C", 1.602176634e-19, 1e-15),
    ("e*bohr", "D", 2.541746473, 1e-9),
])
def test_atomic_units(src, dst, factor, rel):
    assert conversion_factor(src, dst) == pytest.approx(factor, rel=rel)


def test_energy_per_system_is_not_molar():
    # "mol" is a real dimension: a hartree of one system is not a kJ/mol without saying "per molecule".
    with pytest.raises(msm.ConfigurationError, match="different dimensions"):
        conversion_factor("Eh", "kJ/mol")
    with pytest.raises(msm.ConfigurationError, match="different dimensions"):
        conversion_factor("Eh/bohr", "kJ/mol/nm")
    assert parse_unit("molecule").dimension() == "mol"
