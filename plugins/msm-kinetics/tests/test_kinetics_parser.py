"""The Antimony subset: what it accepts and how it rejects the rest."""

from __future__ import annotations

import numpy as np
import pytest
from msm_kinetics.antimony_subset import parse_model
from msm_kinetics.network import Network

import msmcore as msm

HINT = "Antimony/SBML reader"


def test_architecture_sketch_model() -> None:
    # MUSCLE3's reaction-diffusion micro model written as a network: one species U, one reaction with
    # rate 4.05e4*U and stoichiometry -1 (values exact: parsed from text).
    m = parse_model("J: U -> ; k*U; k = 4.05e4")
    assert m.species == ("U",)
    assert m.parameters == {"k": 4.05e4}
    assert m.initial_values == {"U": 0.0}
    (j,) = m.reactions
    assert (j.name, j.rate_constant, dict(j.orders), j.rate_law) == ("J", 4.05e4, {"U": 1}, "k*U")
    np.testing.assert_array_equal(m.stoichiometry(), [[-1.0]])


def test_full_subset_syntax() -> None:
    # Comments of all three kinds, ';' and newlines, optional names, '=>',
    # coefficients, a zero-order source, repeated species, parameter products,
    # assignments before and after use; all values are exact decimal literals.
    m = parse_model(
        """
        # a network
        J1: A + 2 B -> C; k1*A*B^2   // third order
        -> A; k0                      /* zero-order source */
        C => ; 2*kd*C; kd = 0.5
        A + A -> D; ka*A^2
        k1 = 4.05e4; k0 = 1; ka = 3
        A = 1.5; B = -2; k0 = 2       # later assignment wins
        """
    )
    assert m.species == ("A", "B", "C", "D")
    assert m.initial_values == {"A": 1.5, "B": -2.0, "C": 0.0, "D": 0.0}
    assert m.parameters == {"kd": 0.5, "k1": 4.05e4, "k0": 2.0, "ka": 3.0}
    assert [r.name for r in m.reactions] == ["J1", "_J0", "_J1", "_J2"]
    np.testing.assert_array_equal(m.rate_constants(), [4.05e4, 2.0, 1.0, 3.0])
    np.testing.assert_array_equal(
        m.kinetic_orders(), [[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [2, 0, 0, 0]]
    )
    np.testing.assert_array_equal(
        m.stoichiometry(),
        [[-1, 1, 0, -2], [-2, 0, 0, 0], [1, 0, -1, 0], [0, 0, 0, 1]],
    )


@pytest.mark.parametrize(
    ("model", "fragments"),
    [
        # division
        ("J1: A -> B; k*A/B; k = 1", ["'J1'", "'k*A/B'", "division", HINT]),
        # unknown species (C is in no reaction and never assigned)
        ("J2: A -> B; k*C; k = 1", ["'J2'", "'k*C'", "'C'", "neither a species"]),
        # undefined parameter
        ("J3: A -> B; kf*A", ["'J3'", "'kf*A'", "'kf'", "never assigned"]),
        # non-mass-action: sum, function, fractional order, negative sign, '**'
        ("J4: A -> B; k*A + k*B; k = 1", ["'J4'", "'k*A + k*B'", "sum", HINT]),
        ("J5: A -> B; exp(A)", ["'J5'", "'exp(A)'", "function 'exp'", HINT]),
        ("J6: A -> B; k*A^0.5; k = 1", ["'J6'", "'k*A^0.5'", "non-negative integer", HINT]),
        ("J7: A -> B; -k*A; k = 1", ["'J7'", "'-k*A'", "negative sign", HINT]),
        ("J8: A -> B; k*A**2; k = 1", ["'J8'", "'k*A**2'", "'^'", HINT]),
        ("J9: A -> B; k*(A); k = 1", ["'J9'", "'k*(A)'", "parentheses", HINT]),
        # malformed reactions
        ("M1: A + -> B; k*A; k = 1", ["'M1'", "malformed", "found '->'"]),
        ("M2: A B; k*A; k = 1", ["'M2'", "malformed", "'M2: A B'", "no '->'"]),
        ("M3: A -> B C; k*A; k = 1", ["'M3'", "malformed", "found 'C'"]),
        ("M4: A -> B", ["'M4'", "no rate law"]),
        ("M5: -> ; k; k = 1", ["'M5'", "neither reactants nor products"]),
        ("M6: A -> B; ; k = 1", ["'M6'", "empty"]),
        ("M7: 0 A -> B; k*A; k = 1", ["'M7'", "'0'", "positive"]),
        ("M8: $A -> B; k; k = 1", ["'M8'", "boundary species"]),
        # other statements
        ("k = 2*3; J: A -> ; k*A", ["'k'", "'k = 2*3'", "does not assign a number"]),
        ("species A; J: A -> ; k*A; k = 1", ["unsupported statement", "'species A'"]),
        ("J: A -> B; k*A; J: B -> A; k*B; k = 1", ["'J'", "defined twice"]),
        ("k = 1", ["no reactions"]),
    ],
)
def test_rejected_models_name_the_reaction_and_the_text(model: str, fragments: list[str]) -> None:
    # Every rejection is a ConfigurationError whose message names the reaction
    # (or statement) and quotes the offending text.
    with pytest.raises(msm.ConfigurationError) as info:
        parse_model(model)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_python_code_is_never_evaluated() -> None:
    # The parser only tokenizes: Python that would run under eval() is a
    # configuration error and has no effect.
    with pytest.raises(msm.ConfigurationError, match="unsupported statement"):
        parse_model("__import__('os').system('false')")
    with pytest.raises(msm.ConfigurationError, match="not a mass-action product|function"):
        parse_model("J: A -> ; k*A.real; k = 1")


def test_component_errors_name_the_component_and_setting() -> None:
    # Errors raised while building the component say which component and setting:
    # the subset rejects division (a general rate law) ...
    with pytest.raises(msm.ConfigurationError, match="setting 'model' of component 'micro'.*'J'.*'k\\*U/2'"):
        Network(name="micro", model="J: U -> ; k*U/2; k = 1", dt=1.0, reader="subset")
    # ... which the full Antimony reader accepts; its syntax errors name the setting too
    assert Network(name="micro", model="J: U -> ; k*U/2; k = 1", dt=1.0).reaction_names == ("J",)
    with pytest.raises(msm.ConfigurationError, match="setting 'model' of component 'micro'.*Antimony.*line 1"):
        Network(name="micro", model="J: U -> ; k*U/; k = 1", dt=1.0)
