"""Safe functions of space and time for settings: ``"1 + x**2 + alpha*y**2 + beta*t"``.

A setting such as ``boundary`` or ``source`` of :class:`~msm_fluid.heat.Heat`
accepts three kinds of value:

* a number - a constant function;
* a Python callable ``g(x, y, t)`` - called with NumPy arrays ``x`` and ``y``
  (broadcastable to each other) and a float ``t``; a function that only
  accepts scalars is called point by point;
* a string - an arithmetic expression in ``x``, ``y``, ``t`` and the names of
  the component's ``constants`` setting.

Strings are parsed with :mod:`ast` and checked against a whitelist before
anything is evaluated; they are then evaluated by walking the checked tree
with NumPy. Nothing is ever passed to :func:`eval` or :func:`exec`. Allowed:

=================  =========================================================
numbers            ``2``, ``1.5``, ``1e-3`` (evaluated as floats)
names              ``x``, ``y``, ``t``, ``pi``, ``e`` and the ``constants``
operators          ``+ - * / **``, unary ``-`` and ``+``, parentheses
functions          ``sin cos exp sqrt log`` of exactly one argument
=================  =========================================================

Anything else - attributes (``x.__class__``), other calls
(``__import__('os')``), subscripts, strings, comparisons, lambdas - is
rejected with a message that says what was found and what is allowed.
"""

from __future__ import annotations

import ast
import keyword
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "CONSTANT_NAMES",
    "Expression",
    "FUNCTIONS",
    "VARIABLES",
    "bind_function",
    "constants_mapping",
    "space_time_function",
]

#: The independent variables an expression may use.
VARIABLES: tuple[str, ...] = ("x", "y", "t")
#: Functions an expression may call, each of one argument.
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin, "cos": np.cos, "exp": np.exp, "sqrt": np.sqrt, "log": np.log,
}
#: Named constants every expression knows (a ``constants`` entry may not redefine them).
CONSTANT_NAMES: dict[str, float] = {"pi": math.pi, "e": math.e}

_MAX_LENGTH = 2000
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
    ast.Div: np.true_divide, ast.Pow: np.power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: np.negative, ast.UAdd: np.positive}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.USub: "-", ast.UAdd: "+"}
_ALLOWED = "numbers, x, y, t, pi, e, constants, + - * / **, parentheses and sin cos exp sqrt log"


class Expression:
    """A checked arithmetic expression in ``x``, ``y``, ``t`` and named constants.

    Parameters
    ----------
    text
        The expression, e.g. ``"1 + x**2 + alpha*y**2 + beta*t"``.

    Raises
    ------
    ValueError
        If the text is not a valid expression or uses anything outside the
        whitelist (see the module documentation).

    Attributes
    ----------
    text : str
        The expression as given.
    names : frozenset of str
        Free names other than the function names (``x``, constants, ...).
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ValueError(f"expression must be a string, got {type(text).__name__}")
        if len(text) > _MAX_LENGTH:
            raise ValueError(f"expression is {len(text)} characters long; at most {_MAX_LENGTH} are allowed")
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"{text!r} is not a valid expression ({exc.msg})") from None
        names: set[str] = set()
        self._body = _check(tree.body, names)
        self.names = frozenset(names)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate with the values of every free name in ``env`` (NumPy broadcasting)."""
        return _evaluate(self._body, env)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __str__(self) -> str:
        return self.text


def _check(node: ast.expr, names: set[str]) -> ast.expr:
    """Raise ValueError unless ``node`` is in the whitelist; collect free names."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ValueError(f"constant {node.value!r} is not allowed; only real numbers are")
        return ast.Constant(float(node.value))  # floats: no unbounded integer arithmetic
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ValueError(f"function '{node.id}' must be called with one argument, e.g. {node.id}(x)")
        names.add(node.id)
        return node
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        node.left = _check(node.left, names)
        node.right = _check(node.right, names)
        return node
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        node.operand = _check(node.operand, names)
        return node
    if isinstance(node, ast.Call):
        func = node.func.id if isinstance(node.func, ast.Name) else None
        if func not in FUNCTIONS:
            shown = func if func is not None else ast.unparse(node.func)
            raise ValueError(
                f"call of '{shown}' is not allowed; the functions are {', '.join(FUNCTIONS)}"
            )
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ValueError(f"function '{func}' takes exactly one positional argument")
        node.args = [_check(node.args[0], names)]
        return node
    what = type(node).__name__
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        what = f"operator {type(node.op).__name__}"
    text = ast.unparse(node)
    raise ValueError(f"{what} ({text!r}) is not allowed in an expression; allowed are {_ALLOWED}")


def _evaluate(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, env))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id](_evaluate(node.args[0], env))


def _space_time_function(value: Any) -> float | Expression | Callable[..., Any]:
    if isinstance(value, Expression) or (callable(value) and not isinstance(value, type)):
        return value
    if isinstance(value, str):
        return Expression(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not finite")
        return number
    raise ValueError(f"{value!r} is neither a number, an expression string nor a callable g(x, y, t)")


def _constants(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError("not a mapping of name -> number")
    out: dict[str, float] = {}
    for name, val in value.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"constant name {name!r} is not an identifier")
        if name in VARIABLES or name in FUNCTIONS or name in CONSTANT_NAMES:
            raise ValueError(f"constant name {name!r} is reserved (x, y, t, pi, e and the function names are)")
        if isinstance(val, bool) or not isinstance(val, (numbers.Real, str)):
            raise ValueError(f"value {val!r} of constant {name!r} is not a number")
        try:
            number = float(val)
        except ValueError:
            raise ValueError(f"value {val!r} of constant {name!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"value {val!r} of constant {name!r} is not finite")
        out[name] = number
    return out


class _Named:
    """A converter with a readable ``__name__`` (msmcore puts it in error messages)."""

    def __init__(self, name: str, func: Callable[[Any], Any]) -> None:
        self.__name__ = name
        self._func = func

    def __call__(self, value: Any) -> Any:
        return self._func(value)


#: Setting type: a number, an expression string (checked now) or a callable g(x, y, t).
space_time_function = _Named(
    "a number, a callable g(x, y, t) or an expression in x, y, t (" + _ALLOWED + ")",
    _space_time_function,
)
#: Setting type: a mapping from names to finite floats (numbers or numeric strings).
constants_mapping = _Named("a mapping of identifiers to numbers", _constants)


def bind_function(
    value: float | Expression | Callable[..., Any], constants: Mapping[str, float], what: str
) -> Callable[[np.ndarray, np.ndarray, float], np.ndarray]:
    """Turn a converted setting into ``f(x, y, t) -> array`` of ``np.broadcast(x, y).shape``.

    Parameters
    ----------
    value
        What :data:`space_time_function` returned.
    constants
        Names an expression may use besides ``x``, ``y``, ``t``, ``pi``, ``e``.
    what
        Names the setting in errors ("setting 'boundary' of component 'left'").

    Raises
    ------
    ValueError
        If an expression uses a name that is neither a variable nor a constant.
    """
    if isinstance(value, float):
        number = value

        def constant(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
            return np.full(np.broadcast(x, y).shape, number)

        return constant
    if isinstance(value, Expression):
        known = {**CONSTANT_NAMES, **constants}
        unknown = sorted(value.names - set(VARIABLES) - set(known))
        if unknown:
            have = ", ".join(sorted(constants)) or "none"
            raise ValueError(
                f"{what}: expression {value.text!r} uses unknown name(s) {', '.join(unknown)}; "
                f"it may use x, y, t, pi, e and the names of the 'constants' setting ({have})"
            )
        expr = value

        def expression(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
            with np.errstate(all="ignore"):  # non-finite results are reported by the caller
                out = expr.evaluate({**known, "x": x, "y": y, "t": float(t)})
            return _shaped(out, x, y)

        return expression
    func = value

    def call(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
        try:
            out = func(x, y, float(t))
            return _shaped(out, x, y)
        except (TypeError, ValueError):  # a scalar-only function: call it point by point
            xs, ys = np.broadcast_arrays(x, y)
            flat = [float(func(float(a), float(b), float(t))) for a, b in zip(xs.ravel(), ys.ravel(), strict=True)]
            return np.asarray(flat, dtype=np.float64).reshape(xs.shape)

    return call


def _shaped(out: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    shape = np.broadcast(x, y).shape
    return np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), shape))
