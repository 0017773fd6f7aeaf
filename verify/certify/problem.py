r"""The problem of a spec or certificate in arb: stacked softmax rows, the box geometry, the target.

Boxes are dyadic sub-boxes of the domain ``{x : ||x − c||∞ ≤ r}``: coordinate ``k`` of a box is a pair
``(i, ℓ)`` meaning ``x_k ∈ c_k + r·[−1 + 2i/2^ℓ, −1 + 2(i+1)/2^ℓ]``. The pairs are exact integers, so a
certificate's boxes are stated exactly and their cover of the domain can be checked exactly.
"""
from __future__ import annotations

import decimal
from fractions import Fraction

import flint

from .spec import factors
from .specnorm import point_norm_lower, point_norm_upper

ROOT_LEVEL = 0


def rows(problem):
    """``[(A_j, b_j)]`` as arb lists: one row (vector form) or ``A_j = A1[j,:] ⊗ A2`` (matrix form)."""
    data = problem["data"]
    if problem["form"] == "vector":
        A = [[flint.arb(v) for v in r] for r in data["A"]]
        b = [flint.arb(v) for v in data["b"]] if "b" in data else [flint.arb(0)] * len(A)
        return [(A, b)]
    A1 = [[flint.arb(v) for v in r] for r in data["A1"]]
    A2 = [[flint.arb(v) for v in r] for r in data["A2"]]
    n, d = len(A1), len(A1[0])
    B = [[flint.arb(v) for v in r] for r in data["B"]] if "B" in data else [[flint.arb(0)] * n for _ in range(n)]
    return [([[A1[j][i] * A2[l][k] for i in range(d) for k in range(d)] for l in range(n)], B[j]) for j in range(n)]


def root(p: int):
    return tuple((0, ROOT_LEVEL) for _ in range(p))


def split(box, k=None):
    """Bisect coordinate ``k`` (default: the widest, the first among equals): two children, lower half first."""
    if k is None:
        k = min(range(len(box)), key=lambda j: (box[j][1], j))
    i, lvl = box[k]
    lo = box[:k] + ((2 * i, lvl + 1),) + box[k + 1:]
    hi = box[:k] + ((2 * i + 1, lvl + 1),) + box[k + 1:]
    return lo, hi


def t_mid_half(i: int, lvl: int):
    """Midpoint and half-width of ``[−1 + 2i/2^ℓ, −1 + 2(i+1)/2^ℓ]`` (exact binary fractions)."""
    return Fraction(2 * i + 1, 2 ** lvl) - 1, Fraction(1, 2 ** lvl)


def _arb_q(q: Fraction):
    return flint.arb(q.numerator) / q.denominator  # exact: the denominator is a power of two


def geometry(problem, box):
    """``(xc, X)``: the centre of the box and the box itself, as arb enclosures of exact sets."""
    c = [flint.arb(v) for v in problem["domain"]["center"]]
    r = flint.arb(problem["domain"]["radius"])
    xc, X = [], []
    for ck, (i, lvl) in zip(c, box):
        m, h = t_mid_half(i, lvl)
        xc.append(ck + r * _arb_q(m))
        X.append(ck + r * (_arb_q(m) + flint.arb(0, _arb_q(h))))
    return xc, X


def centre_text(problem, box) -> list[str]:
    """The exact centre of a box as decimal strings (a binary fraction times a decimal is a finite decimal)."""
    r = Fraction(problem["domain"]["radius"])
    out = []
    for ck, (i, lvl) in zip(problem["domain"]["center"], box):
        q = Fraction(ck) + r * t_mid_half(i, lvl)[0]
        out.append(_fraction_text(q))
    return out


def _fraction_text(q: Fraction) -> str:
    with decimal.localcontext() as ctx:
        ctx.prec = 1000
        text = format(decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def spectral_lower(M):
    """Rigorous lower bound of ``||M||₂`` for an exact matrix (Rayleigh quotient at a float singular vector)."""
    return point_norm_lower(M)[0]


def target_enclosure(problem):
    """An arb ball containing the target (a decimal, or a product of decimals and spectral norms)."""
    text = problem["target"]
    try:
        return flint.arb(str(Fraction(text).numerator)) / Fraction(text).denominator
    except ValueError:
        pass
    nums, powers = factors(text, problem["form"])
    value = flint.arb(1)
    for s in nums:
        q = Fraction(s)
        value *= flint.arb(q.numerator) / q.denominator
    for name, k in powers.items():
        M = [[flint.arb(v) for v in r] for r in problem["data"][name]]
        lo, hi = spectral_lower(M), point_norm_upper(M)
        value *= flint.arb(lo).union(hi) ** k
    return value
