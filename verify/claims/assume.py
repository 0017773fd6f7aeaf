r"""The ``assume`` vocabulary of claim files, parsed into small records.

=================================  ===================================================================
``norm(A) <= EXPR``                spectral norm; in matrix form ``A = A1 ⊗ A2``, i.e. ``||A1||·||A2||``
``norm(A1|A2) <= EXPR``            spectral norm (matrix form)
``norm(kron(A1,A2)) <= EXPR``      ``||A1 ⊗ A2|| = ||A1||·||A2||`` (matrix form)
``norm(x|X) <= EXPR``              ℓ2 / Frobenius (``x = vec(X)``, so both spell the same bound)
``norm(b) <= EXPR``                ℓ2 norm of ``b``, of every row of ``B`` in matrix form
``simplex(b)``                     every row non-negative, summing to 1
``norm_inf(A(x-y)) <= EXPR``       a Lipschitz step in x: ``||A(x − y)||_∞`` (matrix: ``max|A1(X−Y)A2ᵀ|``)
``norm_inf((A-A')x) <= EXPR``      a step in the data: ``||(A − A')x||_∞`` (matrix: the logits' change)
``R|n|d >=|<= NUMBER``             ranges of the free parameters (``<``/``>`` are accepted too)
=================================  ===================================================================

A step restriction that does not match the claim's ``wrt`` holds trivially (the other variable does
not move) and is kept only for the record. Whitespace is ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .expr import Expr, ExprError, parse

VOCABULARY = ("norm(A|A1|A2|x|X|b) <= EXPR, norm(kron(A1,A2)) <= EXPR, simplex(b), norm_inf(A(x-y)) <= EXPR, "
              "norm_inf((A-A')x) <= EXPR, R|n|d >=|<= NUMBER")
VECTOR_TARGETS = {"A": "A", "x": "x", "b": "b"}
MATRIX_TARGETS = {"A": "kron", "kron(A1,A2)": "kron", "A1": "A1", "A2": "A2", "X": "X", "x": "X", "b": "b"}

_NORM = re.compile(r"norm\((kron\(A1,A2\)|A1|A2|A|x|X|b|B)\)(<=|<)(.+)")
_STEP = {"x": re.compile(r"norm_inf\(A\(x-y\)\)(<=|<)(.+)"), "A": re.compile(r"norm_inf\(\(A-A'\)x\)(<=|<)(.+)")}
_PARAM = re.compile(r"(R|n|d)(>=|<=|>|<)(.+)")


class AssumeError(ValueError):
    """An assumption outside the vocabulary; one sentence."""


@dataclass(frozen=True)
class NormBound:
    target: str  # vector: A | x | b ; matrix: kron | A1 | A2 | X | b
    bound: Expr
    strict: bool
    text: str


@dataclass(frozen=True)
class Simplex:
    text: str = "simplex(b)"


@dataclass(frozen=True)
class StepBound:
    step: str  # "x": norm_inf(A(x-y)); "A": norm_inf((A-A')x)
    bound: Expr
    strict: bool
    text: str


@dataclass(frozen=True)
class ParamBound:
    symbol: str  # R | n | d
    op: str  # >= | <= | > | <
    value: Expr  # a number (no symbols)
    text: str


def parse_assumption(text, form: str):
    """One ``assume`` entry for a claim of the given ``form``; raise :class:`AssumeError`."""
    if not isinstance(text, str):
        raise AssumeError(f"each assumption must be a string, got {type(text).__name__} {text!r}")
    s = re.sub(r"\s+", "", text)
    if s in ("simplex(b)", "simplex(B)"):
        return Simplex(text)
    if m := _NORM.fullmatch(s):
        name, op, rhs = m.groups()
        if name == "B":
            raise AssumeError(f"{text!r}: write norm(b); it bounds every row of B")
        targets = VECTOR_TARGETS if form == "vector" else MATRIX_TARGETS
        if name not in targets:
            raise AssumeError(f"{text!r}: {name} belongs to the {'matrix' if form == 'vector' else 'vector'} form, "
                              f"but the claim is in {form} form")
        return NormBound(targets[name], _expr(text, rhs), op == "<", text)
    for step, pattern in _STEP.items():
        if m := pattern.fullmatch(s):
            return StepBound(step, _expr(text, m.group(2)), m.group(1) == "<", text)
    if m := _PARAM.fullmatch(s):
        symbol, op, rhs = m.groups()
        value = _expr(text, rhs)
        if value.symbols:
            raise AssumeError(f"{text!r}: the right-hand side must be a number, got {rhs!r}")
        return ParamBound(symbol, op, value, text)
    raise AssumeError(f"{text!r} is not in the assume vocabulary ({VOCABULARY})")


def _expr(text, rhs) -> Expr:
    try:
        return parse(rhs)
    except ExprError as exc:
        raise AssumeError(f"{text!r}: {exc}") from None
