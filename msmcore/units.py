"""Units: parse unit strings, check compatibility at connect time, convert.

A unit string is a product of factors, each a unit symbol with an optional SI
prefix and an optional integer exponent, separated by ``*``, ``.``, ``/`` or
spaces: ``"mol/m^3"``, ``"m^2/s"``, ``"kJ/mol"``, ``"1/s"``, ``"1"``. Everything
after a ``/`` is in the denominator (``"J/mol/K"`` is J mol⁻¹ K⁻¹). Two ports
may be connected when their units are equal strings, or parse to the same
dimension; the conversion factor then folds into the transfer.

The amount of substance stays a real dimension: an energy per system in
atomic units is ``"Eh/molecule"`` (``molecule`` = 1/N_A mol), which converts
to ``"kJ/mol"`` (factor 2625.4996...); ``"Eh"`` alone does not, because one
side counts per system and the other per mole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from msmcore.errors import ConfigurationError

__all__ = ["Unit", "parse_unit", "conversion_factor"]

# Dimensions: m, kg, s, mol, K, A, cd
_DIMS = ("m", "kg", "s", "mol", "K", "A", "cd")


def _d(**powers: int) -> tuple[int, ...]:
    return tuple(powers.get(k, 0) for k in _DIMS)


_BASE: dict[str, tuple[float, tuple[int, ...]]] = {
    "1": (1.0, _d()),
    "m": (1.0, _d(m=1)),
    "g": (1e-3, _d(kg=1)),
    "s": (1.0, _d(s=1)),
    "min": (60.0, _d(s=1)),
    "h": (3600.0, _d(s=1)),
    "mol": (1.0, _d(mol=1)),
    "K": (1.0, _d(K=1)),
    "A": (1.0, _d(A=1)),
    "cd": (1.0, _d(cd=1)),
    "L": (1e-3, _d(m=3)),
    "l": (1e-3, _d(m=3)),
    "M": (1e3, _d(mol=1, m=-3)),  # molar, mol/L
    "N": (1.0, _d(kg=1, m=1, s=-2)),
    "J": (1.0, _d(kg=1, m=2, s=-2)),
    "W": (1.0, _d(kg=1, m=2, s=-3)),
    "Pa": (1.0, _d(kg=1, m=-1, s=-2)),
    "bar": (1e5, _d(kg=1, m=-1, s=-2)),
    "Hz": (1.0, _d(s=-1)),
    "eV": (1.602176634e-19, _d(kg=1, m=2, s=-2)),
    "Da": (1.66053906660e-27, _d(kg=1)),
    "C": (1.0, _d(A=1, s=1)),
    "V": (1.0, _d(kg=1, m=2, s=-3, A=-1)),
    "angstrom": (1e-10, _d(m=1)),
    "Å": (1e-10, _d(m=1)),
    "cal": (4.184, _d(kg=1, m=2, s=-2)),  # thermochemical calorie
    # Atomic units (CODATA 2018): Bohr radius, Hartree energy, elementary charge; the debye.
    "bohr": (5.29177210903e-11, _d(m=1)),
    "Eh": (4.3597447222071e-18, _d(kg=1, m=2, s=-2)),
    "hartree": (4.3597447222071e-18, _d(kg=1, m=2, s=-2)),
    "e": (1.602176634e-19, _d(A=1, s=1)),
    "D": (1e-21 / 299792458.0, _d(A=1, s=1, m=1)),  # 1 D = 1e-21/c C m
    # One entity (molecule, particle, system): 1/N_A mol. Energies per entity ("Eh/molecule")
    # convert to molar ones ("kJ/mol"); "Eh" alone has no amount and does not.
    "molecule": (1.0 / 6.02214076e23, _d(mol=1)),
}
_PREFIX = {
    "y": 1e-24, "z": 1e-21, "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6,
    "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "c": 1e-2, "d": 1e-1, "da": 1e1, "h": 1e2, "k": 1e3,
    "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
}
_FACTOR = re.compile(r"^([A-Za-zµμÅ]+|[0-9.eE+-]+)(?:(?:\^|\*\*)?([+-]?\d+))?$")


@dataclass(frozen=True)
class Unit:
    """A parsed unit: ``scale`` times SI base units raised to ``dims``."""

    scale: float
    dims: tuple[int, ...]

    def __mul__(self, other: Unit) -> Unit:
        return Unit(self.scale * other.scale, tuple(a + b for a, b in zip(self.dims, other.dims, strict=True)))

    def __pow__(self, n: int) -> Unit:
        return Unit(self.scale**n, tuple(a * n for a in self.dims))

    def dimension(self) -> str:
        """The dimension in SI base units, e.g. ``"mol m^-3"``."""
        parts = [f"{d}^{p}" if p != 1 else d for d, p in zip(_DIMS, self.dims, strict=True) if p]
        return " ".join(parts) or "dimensionless"


def _symbol(name: str) -> Unit:
    if name in _BASE:
        scale, dims = _BASE[name]
        return Unit(scale, dims)
    for plen in (2, 1):
        prefix, rest = name[:plen], name[plen:]
        if prefix in _PREFIX and rest in _BASE:
            scale, dims = _BASE[rest]
            return Unit(_PREFIX[prefix] * scale, dims)
    raise ValueError(f"unknown unit symbol '{name}'")


@lru_cache(maxsize=512)
def parse_unit(text: str) -> Unit:
    """Parse a unit string.

    Raises
    ------
    ConfigurationError
        When the string contains an unknown symbol or malformed factor.
    """
    spaced = re.sub(r"\s*(\*\*|\^)\s*", r"^", text.strip())
    tokens = re.findall(r"/|[^\s*/.]+(?:\.\d+)?|\.", spaced.replace("·", "*"))
    unit = Unit(1.0, _d())
    sign = 1
    for tok in tokens:
        if tok == "/":
            sign = -1
            continue
        if tok == ".":
            continue
        m = _FACTOR.match(tok)
        if not m:
            raise ConfigurationError(f"cannot parse unit '{text}': bad factor '{tok}'")
        name, power = m.group(1), int(m.group(2) or 1)
        try:
            base = Unit(float(name), _d()) if re.match(r"^[0-9.]", name) else _symbol(name)
        except ValueError as exc:
            raise ConfigurationError(f"cannot parse unit '{text}': {exc}") from None
        unit = unit * base ** (sign * power)
    return unit


def conversion_factor(source: str, target: str) -> float:
    """Factor turning values in ``source`` units into ``target`` units.

    Equal strings give 1 without parsing (so labels like ``"cells"`` work).

    Raises
    ------
    ConfigurationError
        When the dimensions differ or a string cannot be parsed.
    """
    if source.strip() == target.strip():
        return 1.0
    a, b = parse_unit(source), parse_unit(target)
    if a.dims != b.dims:
        raise ConfigurationError(
            f"units '{source}' ({a.dimension()}) and '{target}' ({b.dimension()}) "
            "have different dimensions"
        )
    return a.scale / b.scale
