"""Data mappings between non-matching meshes, each one PETSc ``Mat`` built once.

A connection between ports whose meshes differ maps values with a matrix
``M`` of shape ``(n_target, n_source)``: ``target = M @ source``, one
``MatMult`` per exchange. Kinds: ``"nearest"``, ``"linear"`` and ``"rbf"``;
``conservative=True`` gives the transpose of the consistent mapping in the
other direction, which keeps the sum of the values::

    from msmcore.mapping import build_mapping, points_of

    mat = build_mapping("linear", points_of(out_spec), points_of(in_spec))
    mat.mult(source_field.vec, target_field.vec)
"""

from __future__ import annotations

from msmcore.mapping.core import KINDS, Mapping, build_mapping, mapping_between, select_components
from msmcore.mapping.mesh import grid_of, points_of
from msmcore.mapping.rbf import BASES

__all__ = ["BASES", "KINDS", "Mapping", "build_mapping", "grid_of", "mapping_between", "points_of",
           "select_components"]
