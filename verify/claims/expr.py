r"""Claim-file expressions through an AST whitelist: nothing is ever ``eval``'ed (docs/design.md §6).

Grammar: numbers, the symbols ``n``, ``d``, ``R``, the operators ``+ - * / **`` (unary ``-``/``+``),
parentheses and the functions ``exp``, ``log``, ``sqrt`` of one argument. The text is parsed with
:func:`ast.parse` (which only builds a tree), every node is checked against the whitelist, and the
tree is then walked by hand: into sympy (:meth:`Expr.to_sympy`, decimals as exact rationals, so
``3.25`` is ``13/4``), into floats, or into a local mpmath context (:meth:`Expr.evaluate`).

>>> e = parse("n**1.5 * exp(10*R**2)")
>>> sorted(e.symbols), e.to_sympy()
(['R', 'n'], n**(3/2)*exp(10*R**2))
>>> parse("R/2").evaluate(dict(n=3, d=2, R=1.0))
0.5
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

SYMBOLS = ("n", "d", "R")
FUNCTIONS = ("exp", "log", "sqrt")
MAX_LITERAL = 1e100  # larger literals (and huge constant powers) would only make sympy grind
MAX_EXPONENT = 1000

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class ExprError(ValueError):
    """An expression outside the whitelist, or one that cannot be evaluated; one sentence."""


@dataclass(frozen=True)
class Expr:
    text: str
    tree: ast.AST = field(repr=False, compare=False)
    symbols: frozenset = frozenset()

    def to_sympy(self):
        """The expression in ``attnreg.proofs.symbols``-compatible positive symbols n, d, R."""
        return _sympy(self.tree)

    def evaluate(self, env: dict, *, ctx=None):
        """Value at ``env`` (``n``, ``d``, ``R``): a float, or a ``ctx.mpf`` when ``ctx`` is given.
        Raises :class:`ExprError` when the value is undefined or not finite there."""
        try:
            value = _evaluate(self.tree, env, ctx)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
            raise ExprError(f"{self.text!r} cannot be evaluated at {_where(env)} ({exc})") from None
        finite = math.isfinite(value) if ctx is None else ctx.isfinite(value)
        if not finite or (ctx is not None and ctx.im(value) != 0) or isinstance(value, complex):
            raise ExprError(f"{self.text!r} is not a finite real number at {_where(env)}")
        return ctx.re(value) if ctx is not None else float(value)


MAX_LENGTH = 1000  # a constant of a theorem fits in far less; longer text is refused before parsing


def parse(text) -> Expr:
    """Parse and check ``text`` (a string, or a plain TOML number); raise :class:`ExprError`."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ExprError(f"an expression must be a string or a number, got {type(text).__name__}")
    src = repr(text) if not isinstance(text, str) else text.strip()
    if not src:
        raise ExprError("the expression is empty")
    if "^" in src:
        raise ExprError(f"{src!r} uses '^'; write powers as '**'")
    if len(src) > MAX_LENGTH:
        raise ExprError(f"the expression has {len(src)} characters; at most {MAX_LENGTH} are accepted")
    try:
        tree = ast.parse(src, mode="eval").body
        symbols = frozenset(_check(tree, src))
    except (SyntaxError, RecursionError, MemoryError):  # nesting too deep for the parser is malformed too
        raise ExprError(f"{src!r} is not a valid expression (numbers, n, d, R, + - * / **, exp, log, sqrt)") from None
    expr = Expr(src, tree, symbols)
    _check_powers(tree, src)
    if not symbols:
        expr.evaluate({})  # a constant expression must have a value (catches 'log(0)', '1/0')
    return expr


def _check(node, src):
    """Yield the symbols used; raise on anything outside the whitelist."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ExprError(f"{src!r}: {v!r} is not a number")
        if abs(v) > MAX_LITERAL:
            raise ExprError(f"{src!r}: the number {v!r} is too large")
    elif isinstance(node, ast.Name):
        if node.id not in SYMBOLS:
            raise ExprError(f"{src!r}: unknown name {node.id!r} (allowed: n, d, R, exp, log, sqrt)")
        yield node.id
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        yield from _check(node.left, src)
        yield from _check(node.right, src)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        yield from _check(node.operand, src)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExprError(f"{src!r}: only the functions exp, log and sqrt may be called")
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ExprError(f"{src!r}: {node.func.id} takes exactly one argument")
        yield from _check(node.args[0], src)
    else:
        raise ExprError(f"{src!r}: {type(node).__name__} is not allowed (numbers, n, d, R, + - * / **, "
                        "exp, log, sqrt)")


def _check_powers(tree, src):
    """Refuse constant powers whose exact value sympy would have to build digit by digit."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            right = Expr(src, node.right)
            if not set(_check(node.right, src)):
                try:
                    e = abs(right.evaluate({}))
                except ExprError:
                    continue  # undefined exponents are reported when the expression is evaluated
                if e > MAX_EXPONENT:
                    raise ExprError(f"{src!r}: the exponent {e:g} is too large (at most {MAX_EXPONENT})")


def _sympy(node):
    import sympy  # deferred: sympy, only when a claim is proved (parsing and sampling do not need it)

    if isinstance(node, ast.Constant):
        return sympy.Integer(node.value) if isinstance(node.value, int) else sympy.Rational(repr(node.value))
    if isinstance(node, ast.Name):
        return sympy.Symbol(node.id, positive=True)
    if isinstance(node, ast.UnaryOp):
        v = _sympy(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call):
        return getattr(sympy, node.func.id)(_sympy(node.args[0]))
    a, b = _sympy(node.left), _sympy(node.right)
    op = type(node.op)
    if op is ast.Add:
        return a + b
    if op is ast.Sub:
        return a - b
    if op is ast.Mult:
        return a * b
    return a / b if op is ast.Div else a**b


def _evaluate(node, env, ctx):
    if isinstance(node, ast.Constant):
        return float(node.value) if ctx is None else ctx.mpf(repr(node.value))
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ValueError(f"{node.id} has no value")
        return float(env[node.id]) if ctx is None else ctx.mpf(env[node.id])
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, env, ctx)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call):
        v = _evaluate(node.args[0], env, ctx)
        if node.func.id in ("log", "sqrt") and v < 0 or node.func.id == "log" and v == 0:
            raise ValueError(f"{node.func.id} of {float(v):g}")
        return getattr(math if ctx is None else ctx, node.func.id)(v)
    a, b = _evaluate(node.left, env, ctx), _evaluate(node.right, env, ctx)
    op = type(node.op)
    if op is ast.Pow:
        if a < 0 and (ctx is None and not float(b).is_integer() or ctx is not None and not ctx.isint(b)):
            raise ValueError("a negative number to a fractional power")
        if a == 0 and b < 0:
            raise ZeroDivisionError("zero to a negative power")
        return a**b
    if op is ast.Div and b == 0:
        raise ZeroDivisionError("division by zero")
    return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b}[op]()


def _where(env) -> str:
    return ", ".join(f"{k}={env[k]:g}" for k in SYMBOLS if k in env) or "no parameters"
