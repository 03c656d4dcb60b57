"""QM-region geometry: atom lists, ``.xyz`` files, element symbols, and the smooth charge switch.

Everything here is NumPy only (no PySCF), so settings are checked without
loading the quantum chemistry library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from msmcore.settings import Converter, to_number

__all__ = ["ANGSTROM_IN_BOHR", "ELEMENTS", "atom_list", "nuclear_charge", "read_xyz", "switch",
           "radii_setting"]

#: 1 Å in bohr: a0 = 0.529177210903 Å (CODATA 2018), the value PySCF 2.14 uses (``pyscf.lib.param.BOHR``).
ANGSTROM_IN_BOHR = 1.0 / 0.529177210903

#: Element symbols by atomic number (index 0 is unused).
ELEMENTS = ("X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
            "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
            "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn").split()
_BY_LOWER = {s.lower(): s for s in ELEMENTS[1:]}


def _symbol(text: Any) -> str:
    if not isinstance(text, str) or text.lower() not in _BY_LOWER:
        raise ValueError(f"unknown element {text!r} (give a symbol such as 'H', 'O', 'Cl'; elements "
                         f"H to Rn are known)")
    return _BY_LOWER[text.lower()]


def nuclear_charge(symbol: str) -> int:
    """Atomic number of an element symbol (``ValueError`` when unknown)."""
    return ELEMENTS.index(_symbol(symbol))


def _atoms(value: Any) -> tuple[tuple[str, float, float, float], ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError("atoms must be a list of [symbol, x, y, z] entries")
    out = []
    for i, row in enumerate(value):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) != 4:
            raise ValueError(f"atom {i} is {row!r}; each atom is [symbol, x, y, z]")
        symbol = _symbol(row[0])
        x, y, z = (to_number(v, f"coordinate of atom {i}") for v in row[1:])
        out.append((symbol, x, y, z))
    if not out:
        raise ValueError("atoms is empty; give at least one [symbol, x, y, z]")
    return tuple(out)


#: Setting type: a list of ``[symbol, x, y, z]``, kept as a tuple of tuples.
atom_list = Converter("a list of [symbol, x, y, z] atoms", _atoms)


def _radii(value: Any) -> tuple[float, ...]:
    items = [value] if isinstance(value, (int, float, str)) else list(value)
    out = tuple(to_number(v, "radius") for v in items)
    if any(r < 0 for r in out):
        raise ValueError(f"{value!r} has a negative radius")
    if not out:
        raise ValueError("no radius given")
    return out


#: Setting type: one Gaussian radius for every MM charge, or one per charge (0 = point charge).
radii_setting = Converter("a radius >= 0 or a list of them", _radii)


def read_xyz(path: str | Path) -> tuple[tuple[str, float, float, float], ...]:
    """Atoms of an ``.xyz`` file: a count line, a comment line, then ``symbol x y z`` lines.

    Raises
    ------
    ValueError
        The file is missing, malformed, or names an unknown element.
    """
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read xyz file '{p}': {exc.strerror or exc}") from None
    try:
        count = int(lines[0].split()[0])
    except (IndexError, ValueError):
        raise ValueError(f"xyz file '{p}': the first line must be the number of atoms") from None
    rows = [line.split() for line in lines[2:2 + count]]
    if len(rows) != count or any(len(r) < 4 for r in rows):
        raise ValueError(f"xyz file '{p}': expected {count} lines 'symbol x y z' after the comment line")
    try:
        return _atoms([[r[0], *r[1:4]] for r in rows])
    except ValueError as exc:
        raise ValueError(f"xyz file '{p}': {exc}") from None


def switch(r: np.ndarray, cutoff: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Quintic switch ``S(r)`` and ``dS/dr``: 1 inside ``cutoff - width``, 0 beyond ``cutoff``.

    ``S = 1 - 10 x^3 + 15 x^4 - 6 x^5`` with ``x = (r - cutoff + width) / width``
    in between: ``S``, ``S'`` and ``S''`` are continuous (C2), so dynamics
    with switched charges conserves energy. ``cutoff <= 0`` switches nothing
    off (``S = 1``).
    """
    r = np.asarray(r, dtype=np.float64)
    if cutoff <= 0.0:
        return np.ones_like(r), np.zeros_like(r)
    x = np.clip((r - (cutoff - width)) / width, 0.0, 1.0)
    s = 1.0 - x**3 * (10.0 - 15.0 * x + 6.0 * x * x)
    ds = -30.0 * x * x * (1.0 - x) ** 2 / width
    return s, ds
