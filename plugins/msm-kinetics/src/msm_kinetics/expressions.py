"""Rate-law expressions: a small typed tree, its derivatives and vectorised evaluators.

Rate laws arrive as MathML (libSBML's ``ASTNode`` tree, see
:mod:`msm_kinetics.sbml_reader`) or from the built-in Antimony subset, and are
turned into this tree - never into text that is evaluated. A tree is built from

- :class:`Const` - a number (parameters and compartment sizes are constant and
  folded in when the model is read);
- :class:`Var` - the value of species ``index`` in the state (a concentration,
  or an amount for species with ``hasOnlySubstanceUnits``);
- :class:`Time` - the model time;
- :class:`Op` - an operation from :data:`OPERATIONS` on argument trees.

The builder functions (:func:`add`, :func:`mul`, :func:`power`, :func:`call`,
...) fold constants and drop neutral terms, so the derivatives that
:func:`diff` builds symbolically stay small. :func:`compile_expr` turns a tree
into a Python closure over NumPy ufuncs that evaluates it for all cells at once
(a list of per-species column arrays in, one array out); the same closure also
works on Python floats, which the single-cell path uses to avoid array overhead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OPERATIONS",
    "Const",
    "Expr",
    "Op",
    "Time",
    "Var",
    "add",
    "call",
    "compile_expr",
    "diff",
    "div",
    "mul",
    "neg",
    "product",
    "power",
    "sub",
    "uses_time",
    "variables",
]

Value = float | np.floating | np.ndarray
Evaluator = Callable[[Sequence[Any], float], Any]


@dataclass(frozen=True)
class Const:
    """A number."""

    value: float

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Var:
    """The value of species ``index`` of the state (``name`` for messages)."""

    index: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Time:
    """The model time."""

    def __str__(self) -> str:
        return "time"


@dataclass(frozen=True)
class Op:
    """Operation ``op`` (a key of :data:`OPERATIONS`) applied to ``args``."""

    op: str
    args: tuple[Expr, ...]

    def __str__(self) -> str:
        infix = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "^", "lt": " < ", "le": " <= ",
                 "gt": " > ", "ge": " >= ", "eq": " == ", "ne": " != ", "and": " && ", "or": " || "}
        if self.op in infix:
            return "(" + infix[self.op].join(str(a) for a in self.args) + ")"
        if self.op == "neg":
            return f"(-{self.args[0]})"
        return f"{self.op}({', '.join(str(a) for a in self.args)})"


Expr = Const | Var | Time | Op

ZERO = Const(0.0)
ONE = Const(1.0)


def _where(cond: Any, a: Any, b: Any) -> Any:
    return np.where(cond, a, b)


def _piecewise_eval(values: Sequence[Any], conditions: Sequence[Any], otherwise: Any) -> Any:
    if all(np.ndim(c) == 0 for c in conditions) and all(np.ndim(v) == 0 for v in values):
        for value, condition in zip(values, conditions, strict=True):  # one cell: the first true condition wins
            if condition:
                return value
        return otherwise
    result = otherwise
    for value, condition in zip(reversed(values), reversed(conditions), strict=True):
        result = np.where(condition, value, result)
    return result


def _div(a: Any, b: Any) -> Any:
    try:
        return a / b
    except ZeroDivisionError:  # Python floats (one cell): IEEE semantics as for arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.divide(a, b))


def _pow(a: Any, b: Any) -> Any:
    if type(a) is float and type(b) is float:
        try:
            r = a ** b
        except (OverflowError, ZeroDivisionError):
            r = None
        if type(r) is float:
            return r
        with np.errstate(all="ignore"):  # overflow, 0**-1, or a complex result: as NumPy does
            return float(np.power(a, b))
    return np.power(a, b)


#: Element-wise functions by operation name: (NumPy implementation, arity or None for n-ary).
OPERATIONS: dict[str, tuple[Callable[..., Any], int | None]] = {
    "add": (np.add, None),
    "mul": (np.multiply, None),
    "neg": (np.negative, 1),
    "div": (np.divide, 2),
    "pow": (np.power, 2),
    "exp": (np.exp, 1),
    "ln": (np.log, 1),
    "log10": (np.log10, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "sign": (np.sign, 1),
    "floor": (np.floor, 1),
    "ceil": (np.ceil, 1),
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "tan": (np.tan, 1),
    "sinh": (np.sinh, 1),
    "cosh": (np.cosh, 1),
    "tanh": (np.tanh, 1),
    "arcsin": (np.arcsin, 1),
    "arccos": (np.arccos, 1),
    "arctan": (np.arctan, 1),
    "arcsinh": (np.arcsinh, 1),
    "arccosh": (np.arccosh, 1),
    "arctanh": (np.arctanh, 1),
    "min": (np.minimum, None),
    "max": (np.maximum, None),
    "rem": (np.fmod, 2),
    "lt": (np.less, 2),
    "le": (np.less_equal, 2),
    "gt": (np.greater, 2),
    "ge": (np.greater_equal, 2),
    "eq": (np.equal, 2),
    "ne": (np.not_equal, 2),
    "and": (np.logical_and, None),
    "or": (np.logical_or, None),
    "xor": (np.logical_xor, None),
    "not": (np.logical_not, 1),
    "piecewise": (_where, None),  # evaluated by _piecewise_eval
}

#: Operations whose value is a truth value (never differentiated).
BOOLEAN = frozenset({"lt", "le", "gt", "ge", "eq", "ne", "and", "or", "xor", "not"})


def _fold(op: str, args: Sequence[Const]) -> Const:
    """Evaluate ``op`` on constants with the same NumPy functions the evaluators use."""
    values = [a.value for a in args]
    with np.errstate(all="ignore"):  # 1/0 -> inf, log(-1) -> nan, as at run time
        if op == "piecewise":
            otherwise = values[-1] if len(values) % 2 else math.nan
            pairs = values[: len(values) - (len(values) % 2)]
            result = _piecewise_eval(pairs[0::2], [bool(c) for c in pairs[1::2]], otherwise)
        else:
            func, arity = OPERATIONS[op]
            if arity is None:
                acc: Any = values[0]
                for v in values[1:]:
                    acc = func(acc, v)
                result = acc
            else:
                result = func(*values)
        return Const(float(np.float64(result)))


def _is_const(e: Expr, value: float | None = None) -> bool:
    return isinstance(e, Const) and (value is None or e.value == value)


# -- builders (with constant folding and neutral-element removal) ----------------------
def add(*args: Expr) -> Expr:
    """Sum of ``args``, left to right; zeros dropped, constants folded when all are."""
    terms = [a for a in args if not _is_const(a, 0.0)]
    if not terms:
        return ZERO
    if all(isinstance(a, Const) for a in terms):
        return _fold("add", terms)  # type: ignore[arg-type]
    if len(terms) == 1:
        return terms[0]
    return Op("add", tuple(terms))


def neg(a: Expr) -> Expr:
    """``-a``."""
    if isinstance(a, Const):
        return Const(-a.value)
    if isinstance(a, Op) and a.op == "neg":
        return a.args[0]
    return Op("neg", (a,))


def sub(a: Expr, b: Expr) -> Expr:
    """``a - b``."""
    if _is_const(b, 0.0):
        return a
    if _is_const(a, 0.0):
        return neg(b)
    if isinstance(a, Const) and isinstance(b, Const):
        return Const(a.value - b.value)
    return Op("sub", (a, b))


def mul(*args: Expr) -> Expr:
    """Product of ``args``, left to right.

    Ones are dropped; a constant zero factor makes the product zero (derivatives
    produce many of those; a NaN or infinity in another factor is not propagated);
    leading constants are folded into one.
    """
    if any(_is_const(a, 0.0) for a in args):
        return ZERO
    if args and isinstance(args[0], Op) and args[0].op == "mul":  # (a*b)*c -> a*b*c: same order
        args = (*args[0].args, *args[1:])
    factors = [a for a in args if not _is_const(a, 1.0)]
    if not factors:
        return ONE
    lead = 0
    while lead < len(factors) and isinstance(factors[lead], Const):
        lead += 1
    if lead > 1:
        factors = [_fold("mul", factors[:lead]), *factors[lead:]]  # type: ignore[arg-type]
    if len(factors) == 1:
        return factors[0]
    if _is_const(factors[0], -1.0):
        return neg(mul(*factors[1:]))
    return Op("mul", tuple(factors))


def product(*args: Expr) -> Expr:
    """Product of ``args`` with nested products flattened, all constants folded first.

    For derivatives, where the grouping of a written rate law need not be kept:
    ``2 * (3 * A)`` becomes ``6 * A``.
    """
    flat: list[Expr] = []
    for a in args:
        flat.extend(a.args if isinstance(a, Op) and a.op == "mul" else (a,))
    consts = [a for a in flat if isinstance(a, Const)]
    rest = [a for a in flat if not isinstance(a, Const)]
    return mul(_fold("mul", consts), *rest) if consts else mul(*rest)


def div(a: Expr, b: Expr) -> Expr:
    """``a / b``."""
    if _is_const(a, 0.0):
        return ZERO
    if _is_const(b, 1.0):
        return a
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold("div", [a, b])
    return Op("div", (a, b))


def power(a: Expr, b: Expr) -> Expr:
    """``a ** b``."""
    if _is_const(b, 0.0):
        return ONE
    if _is_const(b, 1.0):
        return a
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold("pow", [a, b])
    return Op("pow", (a, b))


def call(op: str, *args: Expr) -> Expr:
    """Any operation of :data:`OPERATIONS` (folded when every argument is constant)."""
    if op == "add":
        return add(*args)
    if op == "mul":
        return mul(*args)
    if op == "neg":
        return neg(*args)
    if op == "sub":
        return sub(*args)
    if op == "div":
        return div(*args)
    if op == "pow":
        return power(*args)
    if op not in OPERATIONS:
        raise KeyError(op)
    if all(isinstance(a, Const) for a in args):
        return _fold(op, args)  # type: ignore[arg-type]
    if op in ("min", "max") and len(args) == 1:
        return args[0]
    if op == "piecewise":
        return _simplify_piecewise(args)
    return Op(op, tuple(args))


def _simplify_piecewise(args: Sequence[Expr]) -> Expr:
    values = list(args[: len(args) - (len(args) % 2)])
    otherwise: Expr = args[-1] if len(args) % 2 else Const(math.nan)
    kept: list[Expr] = []
    for value, cond in zip(values[0::2], values[1::2], strict=True):
        if isinstance(cond, Const):
            if cond.value:
                otherwise = value  # always true: later pieces are unreachable
                break
            continue  # never true
        kept += [value, cond]
    if not kept:
        return otherwise
    pieces = [*kept[0::2], otherwise]
    if all(isinstance(v, Const) for v in pieces) and len({v.value for v in pieces}) == 1:  # type: ignore[union-attr]
        return otherwise  # the same number on every branch
    return Op("piecewise", (*kept, otherwise))


# -- analysis ----------------------------------------------------------------------------
def variables(e: Expr) -> frozenset[int]:
    """Indices of the species that ``e`` reads."""
    if isinstance(e, Var):
        return frozenset((e.index,))
    if isinstance(e, Op):
        out: frozenset[int] = frozenset()
        for a in e.args:
            out |= variables(a)
        return out
    return frozenset()


def uses_time(e: Expr) -> bool:
    """Whether ``e`` reads the model time."""
    if isinstance(e, Time):
        return True
    return isinstance(e, Op) and any(uses_time(a) for a in e.args)


def diff(e: Expr, index: int) -> Expr:
    """The partial derivative of ``e`` with respect to species ``index``, as a tree.

    Piecewise functions are differentiated piece by piece, ``abs``, ``min`` and
    ``max`` by their active branch, ``floor``/``ceil``/``rem`` as step functions
    (zero almost everywhere).
    """
    if index not in variables(e):
        return ZERO
    if isinstance(e, Var):
        return ONE
    assert isinstance(e, Op)
    op, args = e.op, e.args
    d = [diff(a, index) for a in args]
    if op == "add":
        return add(*d)
    if op == "sub":
        return sub(d[0], d[1])
    if op == "neg":
        return neg(d[0])
    if op == "mul":
        return add(*(product(*args[:k], d[k], *args[k + 1:]) for k in range(len(args)) if not _is_const(d[k], 0.0)))
    if op == "div":
        a, b = args
        return sub(div(d[0], b), div(product(a, d[1]), product(b, b)))
    if op == "pow":
        a, b = args
        if isinstance(b, Const):  # b * a^(b-1) * a'
            return product(b, power(a, Const(b.value - 1.0)), d[0])
        # a^b * (b' ln a + b a'/a)
        return product(e, add(product(d[1], call("ln", a)), div(product(b, d[0]), a)))
    a, da = args[0], d[0]  # the unary rules below are used only with one argument
    unary = {
        "exp": lambda: product(e, da),
        "ln": lambda: div(da, a),
        "log10": lambda: div(da, product(Const(math.log(10.0)), a)),
        "sqrt": lambda: div(da, product(Const(2.0), e)),
        "abs": lambda: product(call("sign", a), da),
        "sign": lambda: ZERO,
        "floor": lambda: ZERO,
        "ceil": lambda: ZERO,
        "sin": lambda: product(call("cos", a), da),
        "cos": lambda: neg(product(call("sin", a), da)),
        "tan": lambda: product(add(ONE, product(e, e)), da),
        "sinh": lambda: product(call("cosh", a), da),
        "cosh": lambda: product(call("sinh", a), da),
        "tanh": lambda: product(sub(ONE, product(e, e)), da),
        "arcsin": lambda: div(da, call("sqrt", sub(ONE, product(a, a)))),
        "arccos": lambda: neg(div(da, call("sqrt", sub(ONE, product(a, a))))),
        "arctan": lambda: div(da, add(ONE, product(a, a))),
        "arcsinh": lambda: div(da, call("sqrt", add(product(a, a), ONE))),
        "arccosh": lambda: div(da, call("sqrt", sub(product(a, a), ONE))),
        "arctanh": lambda: div(da, sub(ONE, product(a, a))),
    }
    if op in unary and len(args) == 1:
        return unary[op]()
    if op in ("min", "max"):
        # the derivative of the selected argument (the first one on ties)
        result, best = d[0], args[0]
        for arg, darg in zip(args[1:], d[1:], strict=True):
            better = call("lt" if op == "min" else "gt", arg, best)
            result = call("piecewise", darg, better, result)
            best = call(op, best, arg)
        return result
    if op == "rem":
        return d[0]  # rem(a, b) = a - b*trunc(a/b): slope 1 in a, steps in b
    if op == "piecewise":
        out = []
        for k, arg in enumerate(args):
            is_condition = k % 2 == 1 and k != len(args) - 1
            out.append(arg if is_condition else d[k])
        return call("piecewise", *out)
    if op in BOOLEAN:
        return ZERO
    raise KeyError(f"no derivative rule for '{op}'")


# -- evaluation ----------------------------------------------------------------------------
def compile_expr(e: Expr) -> Evaluator:
    """A closure ``f(columns, t)`` evaluating ``e`` element-wise.

    ``columns[i]`` holds species ``i``: a 1-D array over cells, or a Python
    float for one cell (division by zero, overflow and domain errors then give
    the same IEEE infinities and NaNs as NumPy arrays, not exceptions). The
    result is an array of the broadcast shape, or a scalar where ``e`` reads no
    species (the caller broadcasts). Products and sums are evaluated left to
    right, integer powers 2 and 3 as repeated products (exact as ``a*a``).
    """
    if isinstance(e, Const):
        value = e.value
        return lambda x, t: value
    if isinstance(e, Var):
        index = e.index
        return lambda x, t: x[index]
    if isinstance(e, Time):
        return lambda x, t: t
    op = e.op
    fs = [compile_expr(a) for a in e.args]
    if op in ("add", "mul", "min", "max", "and", "or", "xor"):
        func = OPERATIONS[op][0]
        if op == "add":
            if len(fs) == 2:
                f0, f1 = fs
                return lambda x, t: f0(x, t) + f1(x, t)
            return _chain(fs, lambda a, b: a + b)
        if op == "mul":
            if len(fs) == 2:
                f0, f1 = fs
                return lambda x, t: f0(x, t) * f1(x, t)
            if len(fs) == 3:
                f0, f1, f2 = fs
                return lambda x, t: f0(x, t) * f1(x, t) * f2(x, t)
            return _chain(fs, lambda a, b: a * b)
        return _chain(fs, func)
    if op == "sub":
        f0, f1 = fs
        return lambda x, t: f0(x, t) - f1(x, t)
    if op == "neg":
        (f0,) = fs
        return lambda x, t: -f0(x, t)
    if op == "div":
        f0, f1 = fs
        return lambda x, t: _div(f0(x, t), f1(x, t))
    if op == "pow":
        f0, f1 = fs
        exponent = e.args[1]
        if isinstance(exponent, Const) and exponent.value == 2.0:
            return lambda x, t: _square(f0(x, t))
        if isinstance(exponent, Const) and exponent.value == 3.0:
            return lambda x, t: _cube(f0(x, t))
        if isinstance(exponent, Const) and exponent.value == 0.5:
            return lambda x, t: np.sqrt(f0(x, t))
        return lambda x, t: _pow(f0(x, t), f1(x, t))
    if op == "piecewise":
        n_pairs = len(fs) // 2
        values = fs[0: 2 * n_pairs: 2]
        conditions = fs[1: 2 * n_pairs: 2]
        otherwise = fs[-1] if len(fs) % 2 else (lambda x, t: math.nan)

        def piecewise(x: Sequence[Any], t: float) -> Any:
            return _piecewise_eval([v(x, t) for v in values], [c(x, t) for c in conditions], otherwise(x, t))

        return piecewise
    func, arity = OPERATIONS[op]
    if arity == 1:
        (f0,) = fs
        return lambda x, t: func(f0(x, t))
    if arity == 2:
        f0, f1 = fs
        return lambda x, t: func(f0(x, t), f1(x, t))
    return _chain(fs, func)


def _square(a: Any) -> Any:
    return a * a


def _cube(a: Any) -> Any:
    return a * a * a


def _chain(fs: Sequence[Evaluator], func: Callable[[Any, Any], Any]) -> Evaluator:
    first, rest = fs[0], tuple(fs[1:])

    def chained(x: Sequence[Any], t: float) -> Any:
        acc = first(x, t)
        for f in rest:
            acc = func(acc, f(x, t))
        return acc

    return chained
