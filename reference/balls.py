r"""Proven digits: evaluate in ball arithmetic and raise the precision until the balls prove them.

:func:`certify` runs a ball evaluator (:mod:`.ball_forms`, python-flint ``arb``) at ``dps + 20``
digits, then with the extra digits doubled, until every returned ball ``[m ± r]`` either

* is a point (``r = 0``: the value is exact, exactly 0 included), or
* has ``r ≤ 2⁻⁸ · 10^{−dps} · |m|`` (relative accuracy proven; after rounding ``m`` to ``dps`` digits the
  returned value is within ``10^{−dps}`` of the true value, relative to the value),

or the extra digits reach :func:`max_extra` (``max(8·dps, 1000)``, more for large logits). A ball
that then still contains 0 is a value that cannot be told apart from 0 at that working precision:
its digits are not invented; it is returned as 0 with the proven bound ``|true value| ≤ r``, and
listed in :attr:`Certified.unresolved`. Its ``r`` is the rounding error of the working precision,
about ``10^{−(dps + extra)}`` times the size of the terms that cancel in it: the value is below
``10^{−dps}`` of its terms. Any other ball that falls short (which point inputs cannot produce)
raises ``ArithmeticError``: no unproven digit is ever returned. Two runs agreeing is not the test
(two runs can lose the same term).

Inputs convert exactly where they are binary floating-point numbers (float64, float32, ints, mpf);
decimal strings and fractions become balls at the working precision that contain them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import flint
from flint import arb, fmpq
from mpmath import libmp

from .context import check_dps, make_context

LOG2_10 = math.log2(10)
GUARD_DIGITS = 20
MAX_LOGITS = 25_000.0  # max_extra grows with |S| up to here: ~43,000 digits (seconds per row at n ~ 30)


def max_extra(dps: int, logits: float = 0.0) -> int:
    """The most digits :func:`certify` works with beyond ``dps``: ``max(8·dps, 1000)``, and more where the
    logits reach ``|S| ≤ logits``: a saturated row's Hessian is ``e^{−4|S|}`` of its terms, so
    ``⌈4·log10(e)·logits⌉ + 2·dps`` digits resolve what cancels there."""
    logits = min(logits, MAX_LOGITS)  # beyond it (or inf: inputs near float64's limit) the cap stops growing
    return max(8 * dps, 1000, math.ceil(4 * math.log10(math.e) * logits) + 2 * dps)


@dataclass(frozen=True)
class Certified:
    """What the balls proved about a reference value.

    ``value``: as the plain function returns it (mpf, ``mpmath.matrix`` or a tuple of those), rounded
    to ``dps`` digits. ``radius``: the same shape, proven bounds ``|value − true value|`` (0 where the
    value is exact, e.g. an exact 0). ``unresolved``: positions, in the row-major flattening of
    ``value`` (parts of a tuple one after the other), of the entries that could not be separated from
    0 and are returned as 0 (their ``radius`` bounds ``|true value|``). Every other entry has ``dps``
    correct digits relative to itself. ``working_dps``: the working precision that proved it.
    """

    value: object
    radius: object
    unresolved: tuple
    dps: int
    working_dps: int


def leaf(raw, exact):
    """An input number as a ``(raw, mpf)`` pair (see :func:`ball`); ``exact`` is its mpf validation."""
    return raw, exact


def ball(pair) -> arb:
    """The ``arb`` of an input: exact for binary numbers, a containing ball for decimal strings/fractions."""
    raw, exact = pair
    if isinstance(raw, str):
        try:
            return arb(raw.strip())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{raw!r} is not a decimal number that ball arithmetic can read") from exc
    if isinstance(raw, Fraction):
        return arb(fmpq(raw.numerator, raw.denominator))
    sign, man, exp, _ = exact._mpf_
    return arb((-man if sign else man, exp))


def balls(pairs):
    """Nested lists of pairs (or None) as nested lists of ``arb`` at flint's working precision."""
    if pairs is None:
        return None
    if isinstance(pairs, list):
        return [balls(p) for p in pairs]
    return ball(pairs)


def certify(compute, args, dps: int, logits: float = 0.0) -> Certified:
    """Evaluate ``compute(*balls(args))`` until the balls prove ``dps`` digits (module docstring);
    ``logits`` bounds ``|S|`` (see :func:`max_extra`)."""
    dps = check_dps(dps)
    cap = max_extra(dps, logits)
    goal = math.ceil(dps * LOG2_10) + 8
    extra = GUARD_DIGITS
    while True:
        with flint.ctx.workprec(math.ceil((dps + extra) * LOG2_10) + 8):
            out = compute(*(balls(a) for a in args))
        leaves = _flat(out)
        pending = [i for i, b in enumerate(leaves) if not _proven(b, goal)]
        if not pending or extra >= cap:
            break
        extra = min(2 * extra, cap)
    bad = [i for i in pending if not (leaves[i].is_finite() and leaves[i].contains(0))]
    if bad:
        raise ArithmeticError(f"ball arithmetic could not prove {dps} digits at {dps + extra} working digits "
                              f"(entry {bad[0]}: {leaves[bad[0]].str(10, radius=True)})")
    ctx = make_context(dps)
    unresolved = tuple(pending)
    value, radius = _to_mpmath(ctx, out, set(unresolved), iter(range(len(leaves))))
    return Certified(value, radius, unresolved, dps, dps + extra)


def logit_bound(*pairs) -> float:
    """An upper bound (float, possibly inf) on ``max |P Q|`` entries for matrices of input pairs, left to
    right (``A1 X A2ᵀ`` is ``logit_bound(A1, X, A2ᵀ)``): products of entrywise absolute values."""
    with flint.ctx.workprec(53):
        M = None
        for m in pairs:
            m = flint.arb_mat([[abs(ball(p)) for p in row] for row in m])
            M = m if M is None else M * m
        return max(float(abs(M[i, j]).upper()) for i in range(M.nrows()) for j in range(M.ncols()))


def _proven(b: arb, goal: int) -> bool:
    return b.is_exact() or (b.is_finite() and b.rel_accuracy_bits() >= goal)


def _flat(value):
    if isinstance(value, list | tuple):
        return [y for v in value for y in _flat(v)]
    return [value]


def _mpf(ctx, b: arb, rnd: str):
    """The midpoint of an exact ``arb`` as ``ctx.mpf``, rounded to ``ctx.prec`` in direction ``rnd``."""
    man, exp = b.mid().man_exp()
    return ctx.make_mpf(libmp.from_man_exp(int(man), int(exp), ctx.prec, rnd))


def _entry(ctx, b: arb, zero: bool):
    """``(value, radius)`` of one ball: the rounded midpoint (or 0) and a proven error bound."""
    if zero:
        return ctx.zero, _mpf(ctx, b.abs_upper(), "u")
    value = _mpf(ctx, b, "n")
    if b.is_exact() and value == _mpf(ctx, b, "u") == _mpf(ctx, b, "d"):
        return value, ctx.zero
    sign, man, exp, _ = value._mpf_
    with flint.ctx.workprec(ctx.prec + 64):  # any precision is rigorous; this one keeps the bound tight
        err = (b - arb((-man if sign else man, exp))).abs_upper()
    return value, _mpf(ctx, err, "u")


def _to_mpmath(ctx, out, unresolved, counter):
    """``out`` as (value, radius): scalars as mpf, lists of rows as matrices, lists as column matrices."""
    if isinstance(out, tuple):
        pairs = [_to_mpmath(ctx, o, unresolved, counter) for o in out]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(out, list):
        rows = out if out and isinstance(out[0], list) else [[o] for o in out]
        cells = [[_entry(ctx, b, next(counter) in unresolved) for b in row] for row in rows]
        return (ctx.matrix([[v for v, _ in row] for row in cells]),
                ctx.matrix([[r for _, r in row] for row in cells]))
    return _entry(ctx, out, next(counter) in unresolved)


