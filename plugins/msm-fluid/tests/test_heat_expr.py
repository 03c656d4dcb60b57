"""Expressions in fluid.heat settings: parsed with ast against a whitelist, never eval'd."""

from __future__ import annotations

import math

import numpy as np
import pytest
from msm_fluid import Heat
from msm_fluid._expr import Expression, bind_function

import msmcore as msm

BASE = dict(size=(1.0, 1.0), nodes=(3, 3), dt=0.1)


@pytest.mark.parametrize(
    "text,expected",
    [
        # Each value is worked out by hand at x = 0.5, y = 2, t = 3, a = 4.
        ("1 + x**2 + a*y**2 + 1.2*t", 1 + 0.25 + 16 + 3.6),
        ("-(x - y) / 2", 0.75),
        ("+x * -y", -1.0),
        ("2**3**2", 2.0**9),  # ** is right-associative, as in Python
        ("sin(pi*x) + cos(0) + exp(0) + sqrt(y*8) + log(e)", 1 + 1 + 1 + 4 + 1),
        ("1e-3 * t", 3e-3),
        ("7", 7.0),
    ],
)
def test_expressions_evaluate_like_python(text: str, expected: float) -> None:
    f = bind_function(Expression(text), {"a": 4.0}, "test")
    value = f(np.array([0.5]), np.array([2.0]), 3.0)
    assert value.shape == (1,)
    assert value[0] == pytest.approx(expected, rel=1e-15)


def test_expression_values_broadcast_over_the_grid() -> None:
    # A constant or an expression in t alone still gives one value per node.
    f = bind_function(Expression("beta*t"), {"beta": 1.2}, "test")
    x, y = np.meshgrid(np.arange(3.0), np.arange(2.0), indexing="ij")
    np.testing.assert_array_equal(f(x, y, 2.0), np.full((3, 2), 2.4))
    g = bind_function(5.0, {}, "test")
    np.testing.assert_array_equal(g(x, y, 0.0), np.full((3, 2), 5.0))


def test_callables_vector_and_scalar_only() -> None:
    x, y = np.meshgrid(np.arange(3.0), np.arange(2.0), indexing="ij")
    vec = bind_function(lambda x, y, t: x + 10 * y + t, {}, "test")
    scalar = bind_function(lambda x, y, t: math.sqrt(x) + y + t, {}, "test")  # math: scalars only
    np.testing.assert_array_equal(vec(x, y, 1.0), x + 10 * y + 1.0)
    np.testing.assert_allclose(scalar(x, y, 1.0), np.sqrt(x) + y + 1.0, rtol=1e-15)


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("__import__('os')", r"call of '__import__' is not allowed; the functions are sin, cos, exp, sqrt, log"),
        ("__import__('os').system('true')", r"Attribute .* is not allowed|call of"),
        ("x.__class__", r"Attribute \('x.__class__'\) is not allowed"),
        ("open('f')", r"call of 'open' is not allowed"),
        ("(lambda: 1)()", r"call of 'lambda: 1' is not allowed"),
        ("[x][0]", r"Subscript .* is not allowed"),
        ("'text'", r"constant 'text' is not allowed"),
        ("True", r"constant True is not allowed"),
        ("1j", r"constant 1j is not allowed"),
        ("x if y else t", r"IfExp .* is not allowed"),
        ("x < y", r"Compare .* is not allowed"),
        ("x // 2", r"operator FloorDiv .* is not allowed"),
        ("x % 2", r"operator Mod .* is not allowed"),
        ("sin(x, y)", r"function 'sin' takes exactly one positional argument"),
        ("sin", r"function 'sin' must be called with one argument"),
        ("x +", r"'x \+' is not a valid expression"),
        ("x = 1", r"is not a valid expression"),
    ],
)
def test_unsafe_or_invalid_text_is_a_configuration_error(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Expression(text)
    with pytest.raises(msm.ConfigurationError, match=r"setting 'boundary' of component 'h' must be"):
        Heat(name="h", boundary=text, **BASE)


def test_unknown_names_are_reported_with_the_known_constants() -> None:
    with pytest.raises(msm.ConfigurationError,
                       match=r"setting 'source' of component 'h': expression 'beta \* z' uses unknown "
                             r"name\(s\) z; it may use x, y, t, pi, e and the names of the 'constants' "
                             r"setting \(beta\)"):
        Heat(name="h", source="beta * z", constants={"beta": 1.0}, **BASE)
    with pytest.raises(msm.ConfigurationError, match=r"unknown name\(s\) os"):
        Heat(name="h", initial="os", **BASE)


def test_no_big_integer_arithmetic() -> None:
    # Numbers are floats, so 9**9**9 overflows to inf at once instead of
    # computing a huge integer; the component reports the non-finite value.
    c = Heat(name="h", initial="9**9**9", **BASE)
    with pytest.raises(msm.ConfigurationError, match=r"setting 'initial' of component 'h' is not finite at t=0"):
        c.initialize()


def test_expressions_drive_the_solver() -> None:
    # The same problem given as strings and as a Python callable gives the same bits.
    consts = {"alpha": 3.0, "beta": 1.2}
    as_text = Heat(name="a", boundary="1 + x**2 + alpha*y**2 + beta*t", source="beta - 2 - 2*alpha",
                   constants=consts, **{**BASE, "nodes": (5, 4)})
    as_code = Heat(name="b", boundary=lambda x, y, t: 1 + x**2 + 3.0 * y**2 + 1.2 * t,
                   source=1.2 - 2 - 2 * 3.0, **{**BASE, "nodes": (5, 4)})
    for c in (as_text, as_code):
        c.initialize()
        c.advance(0.3)
    np.testing.assert_array_equal(as_text.port_array("temperature_out"), as_code.port_array("temperature_out"))
