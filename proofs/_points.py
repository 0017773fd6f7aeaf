r"""The checker's own sampling of identity steps: each ``lhs = rhs`` evaluated at random points, 50 digits.

sympy decides every identity step exactly (:func:`._checker.holds`); this is an independent guard on that
decision (a sympy simplification bug, an atomization that loses a term would show here), run by the checker
on the steps exactly as the lemma builds them at the checker's size — never the lemma's own code path. Real
symbols get values in [−1.5, 1.5], positive ones in [0.2, 2]; the largest relative residual over all steps
and entries must be below 10⁻⁴⁰. Evidence "confirmed", never a proof.
"""
from __future__ import annotations

import random

import sympy as sp

from ._algebra import BASE_SIZES
from ._core import Estimate, Step
from ._numeric import RESIDUAL_DIGITS, Numeric
from ._sizes import built

DIGITS = 60


def _value(sym, rng):
    if sym.is_positive:
        return sp.Float(rng.uniform(0.2, 2), DIGITS)
    return sp.Float(rng.uniform(-1.5, 1.5), DIGITS)


def _entries(v):
    if isinstance(v, sp.MatrixBase):
        return list(v)
    if isinstance(v, list | tuple):
        return [y for x in v for y in _entries(x)]
    return [sp.sympify(v)]


def steps_at_points(lemma, size=None, seed: int = 0) -> Numeric:
    """Largest relative residual of the lemma's identity steps (and side identities) at a random point."""
    rng = random.Random(seed)
    steps = built(lemma, tuple(size or BASE_SIZES[0]))
    pairs = [(s.lhs, s.rhs) for s in steps if isinstance(s, Step)]
    pairs += [(c.lhs, c.rhs) for s in steps if isinstance(s, Estimate) for c in s.side]
    worst, count = sp.Float(0, DIGITS), 0
    for lhs, rhs in pairs:
        left, right = _entries(lhs), _entries(rhs)
        if len(left) != len(right):
            return Numeric(False, float("inf"), 0.0, "a step compares objects of different sizes")
        syms = set().union(*(e.free_symbols for e in left + right))
        point = {s: _value(s, rng) for s in sorted(syms, key=str)}
        for a, b in zip(left, right):
            x, y = sp.N(a.xreplace(point), DIGITS), sp.N(b.xreplace(point), DIGITS)
            worst = max(worst, abs(x - y) / max(1, abs(y)))
            count += 1
    ok = worst <= sp.Float(10, DIGITS) ** -RESIDUAL_DIGITS
    return Numeric(bool(ok), float(worst), 10.0 ** -RESIDUAL_DIGITS,
                   f"{count} entries of {len(pairs)} identities at a random point, {DIGITS} digits, max relative "
                   f"residual {sp.N(worst, 3)}")
