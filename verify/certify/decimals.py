"""Exact arb endpoints written as decimal strings rounded outward (a bound never shrinks in print)."""
from __future__ import annotations

import decimal
from fractions import Fraction

DIGITS = 12


def _exact(a) -> Fraction:
    man, exp = a.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


def _text(q: Fraction, rounding: str, digits: int) -> str:
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        ctx.rounding = rounding
        v = decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)
    return str(v.normalize()) if v != 0 else "0"


def up(a, digits: int = DIGITS) -> str:
    """A decimal ``≥`` every point of the arb ball ``a``."""
    return _text(_exact(a.upper()), decimal.ROUND_CEILING, digits)


def down(a, digits: int = DIGITS) -> str:
    """A decimal ``≤`` every point of the arb ball ``a``."""
    return _text(_exact(a.lower()), decimal.ROUND_FLOOR, digits)
