"""The reaction network as the integrators see it: species, rate laws, stoichiometry.

A :class:`KineticModel` comes from one of the readers - the Antimony/SBML
reader (:mod:`msm_kinetics.sbml_reader`) or the built-in Antimony subset
(:func:`from_subset`) - and is independent of where it came from. Per cell,
the state ``x`` holds one value per species (a concentration, or an amount for
an SBML species with ``hasOnlySubstanceUnits``) and obeys

.. code-block:: text

    dx_s/dt = sum_j coefficients[s, j] * v_j(x, t)  +  rate_rules[s](x, t)

with ``v_j`` the rate law of reaction ``j`` (SBML: substance per time) and
``coefficients = stoichiometry * scale[:, None]``, ``scale[s]`` being
``conversion factor / compartment size`` for a concentration species and the
conversion factor for an amount species (and 0 for boundary or constant
species, which reactions do not change).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from msm_kinetics.antimony_subset import ReactionModel
from msm_kinetics.expressions import Const, Expr, Op, Var, mul

__all__ = ["KineticModel", "from_subset"]


@dataclass(frozen=True)
class KineticModel:
    """A reaction network ready to be compiled.

    Attributes
    ----------
    species
        Species ids, in model order.
    reactions
        Reaction ids, in model order.
    rate_laws
        Per reaction its rate law over :class:`~msm_kinetics.expressions.Var`
        (species by index) and :class:`~msm_kinetics.expressions.Time`.
    stoichiometry
        Net stoichiometric coefficients, species x reactions (products minus reactants).
    scale
        Per species the factor turning a reaction's rate into the change of the
        species' value (see the module docs).
    initial
        Initial value per species.
    rate_rules
        SBML rate rules: species index -> ``dx/dt`` expression.
    source
        Where the model came from: ``"antimony"``, ``"sbml"`` or ``"antimony-subset"``.
    parameters
        Constant parameter values (for information; they are folded into the rate laws).
    compartments
        Compartment sizes (for information).
    """

    species: tuple[str, ...]
    reactions: tuple[str, ...]
    rate_laws: tuple[Expr, ...]
    stoichiometry: np.ndarray
    scale: np.ndarray
    initial: np.ndarray
    rate_rules: dict[int, Expr] = field(default_factory=dict)
    source: str = "sbml"
    parameters: dict[str, float] = field(default_factory=dict)
    compartments: dict[str, float] = field(default_factory=dict)

    @property
    def coefficients(self) -> np.ndarray:
        """``stoichiometry * scale[:, None]``: the ODE's coefficient of each rate per species."""
        return self.stoichiometry * self.scale[:, None]

    def reordered(self, order: tuple[str, ...]) -> KineticModel:
        """The same model with the species in ``order`` (a permutation of :attr:`species`)."""
        perm = [self.species.index(s) for s in order]
        new_index = {old: new for new, old in enumerate(perm)}

        def remap(e: Expr) -> Expr:
            if isinstance(e, Var):
                return Var(new_index[e.index], e.name)
            if isinstance(e, Op):
                return Op(e.op, tuple(remap(a) for a in e.args))
            return e

        return KineticModel(
            species=tuple(order),
            reactions=self.reactions,
            rate_laws=tuple(remap(e) for e in self.rate_laws),
            stoichiometry=self.stoichiometry[perm],
            scale=self.scale[perm],
            initial=self.initial[perm],
            rate_rules={new_index[s]: remap(e) for s, e in self.rate_rules.items()},
            source=self.source,
            parameters=self.parameters,
            compartments=self.compartments,
        )


def from_subset(model: ReactionModel) -> KineticModel:
    """Convert a model of the built-in Antimony subset.

    Each mass-action rate law ``k*A*B^2`` becomes the product
    ``k * A * B * B`` evaluated left to right, ``k`` the product of the law's
    numbers and parameters - the evaluation order of the subset's own
    integrator, so results are bit for bit those of earlier releases.
    Compartments have size 1.
    """
    index = {s: i for i, s in enumerate(model.species)}
    laws = []
    for r in model.reactions:
        factors: list[Expr] = [Var(index[s], s) for s, order in r.orders.items() for _ in range(order)]
        laws.append(mul(Const(r.rate_constant), *factors))
    return KineticModel(
        species=model.species,
        reactions=tuple(r.name for r in model.reactions),
        rate_laws=tuple(laws),
        stoichiometry=model.stoichiometry(),
        scale=np.ones(len(model.species)),
        initial=model.initial_vector(),
        source="antimony-subset",
        parameters=dict(model.parameters),
        compartments={},
    )
