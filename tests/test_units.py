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
