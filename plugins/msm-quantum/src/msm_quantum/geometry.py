"""QM-region geometry: atom lists, ``.xyz`` files, element symbols, and the smooth charge switch.

Everything here is NumPy only (no PySCF), so settings are checked without
loading the quantum chemistry library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from msmcore.settings import Converter, to_number

__all__ = ["ANGSTROM_IN_BOHR", "COINCIDENT_BOHR", "ELEMENTS", "atom_list", "closest_pair", "nuclear_charge",
           "read_xyz", "switch", "radii_setting"]

#: 1 Å in bohr: a0 = 0.529177210903 Å (CODATA 2018), the value PySCF 2.14 uses (``pyscf.lib.param.BOHR``).
ANGSTROM_IN_BOHR = 1.0 / 0.529177210903

#: Element symbols by atomic number (index 0 is unused).
ELEMENTS = ("X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
            "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
            "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn").split()
_BY_LOWER = {s.lower(): s for s in ELEMENTS[1:]}


#: Closest distance (bohr) two QM nuclei may have; nearer ones "coincide" (singular overlap, E_nuc -> inf).
COINCIDENT_BOHR = 1e-3


def _symbol(text: Any) -> str:
    """Element symbol of ``text``: a symbol in any case, an atomic number (as some .xyz writers give),
    or a numbered label such as ``'O1'``/``'Cl12'``."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool) and 0 < int(text) < len(ELEMENTS):
        return ELEMENTS[int(text)]
    if isinstance(text, str):
        key = text.strip()
        if key.isdigit() and 0 < int(key) < len(ELEMENTS):
            return ELEMENTS[int(key)]
        key = key.rstrip("0123456789").lower()
        if key in _BY_LOWER:
            return _BY_LOWER[key]
    raise ValueError(f"unknown element {text!r} (give a symbol such as 'H', 'O', 'Cl', or an atomic number; "
                     f"elements H to Rn are known; ghost atoms are not supported)")


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
    """Atoms of the first frame of an ``.xyz`` file: a count line, a comment line, then ``symbol x y z`` lines.

    Symbols may be in any case, atomic numbers or numbered labels (``O1``);
    columns after ``z`` and blank lines between the atom lines are ignored. What
    follows the counted atoms must be blank or the count line of a next frame
    (which is not read): another atom line means the count is wrong.

    Raises
    ------
    ValueError
        The file is missing, malformed, miscounted, or names an unknown element.
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
    rows: list[list[str]] = []
    i = 2
    while len(rows) < count and i < len(lines):
        if lines[i].strip():
            rows.append(lines[i].split())
        i += 1
    if len(rows) != count or any(len(r) < 4 for r in rows):
        raise ValueError(f"xyz file '{p}': expected {count} lines 'symbol x y z' after the comment line, "
                         f"found {len(rows)}" + (" (one with fewer than 4 columns)" if len(rows) == count else ""))
    rest = next((j for j in range(i, len(lines)) if lines[j].strip()), None)
    if rest is not None and not (len(lines[rest].split()) == 1 and lines[rest].strip().isdigit()):
        raise ValueError(f"xyz file '{p}': line {rest + 1} ({lines[rest].strip()[:40]!r}) follows the {count} atoms "
                         f"of the count line but is not the count of a next frame: is the count ({count}) wrong?")
    try:
        return _atoms([[r[0], *r[1:4]] for r in rows])
    except ValueError as exc:
        raise ValueError(f"xyz file '{p}': {exc}") from None


def closest_pair(coords: np.ndarray) -> tuple[int, int, float] | None:
    """``(i, j, distance)`` of the two closest points of ``coords`` ``(n, 3)``, ``i < j``; ``None`` if ``n < 2``."""
    n = coords.shape[0]
    if n < 2:
        return None
    d = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=2)
    d[np.diag_indices(n)] = np.inf
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    return int(min(i, j)), int(max(i, j)), float(d[i, j])


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
