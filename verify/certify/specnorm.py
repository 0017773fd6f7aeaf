r"""Rigorous upper bounds on the spectral norm of every matrix in an arb interval matrix (``run`` side).

For ``M`` with entries ``[m_ij ± r_ij]`` (midpoint matrix ``C``, radius matrix ``R ≥ 0``), every member
``C + E`` (``|E| ≤ R``) satisfies each of

1. ``||C + E||₂ ≤ ||C||₂ + ||R||₂`` (``||E||₂ ≤ || |E| ||₂ ≤ ||R||₂``: the spectral norm of a nonnegative
   matrix grows with its entries), where ``||C||₂ < μ`` is *proved* by an LDLᵀ factorisation of
   ``μ² I − CᵀC`` in ball arithmetic whose pivots are all positive (Sylvester's criterion: the exact
   pivots are ratios of leading principal minors and lie in the computed balls), ``μ`` a floating-point
   guess from an SVD; and ``||R||₂ ≤ sqrt(||R||₁ ||R||∞)``;
2. ``||M||₂ ≤ sqrt(||M||₁ ||M||∞)`` with ``|m_ij| ≤ |m_ij| + r_ij``;
3. ``||M||₂² = λ_max(MᵀM) ≤ max_i Σ_j |(MᵀM)_ij|`` (Gershgorin on the enclosure of ``MᵀM``).

The bound returned is the smallest of the three. Bound 1 tends to ``max ||M(x)||₂`` as the box shrinks,
so branch-and-bound converges to the true constant; 2 and 3 are the textbook bounds.
"""
from __future__ import annotations

import flint
import numpy as np


def ldl_positive(G) -> bool:
    """True only if the symmetric matrix ``G`` (lists of arb; every symmetric member) is positive definite."""
    n = len(G)
    L = [[flint.arb(0)] * n for _ in range(n)]
    d = [flint.arb(0)] * n
    for k in range(n):
        d[k] = G[k][k] - sum((L[k][j] * L[k][j] * d[j] for j in range(k)), flint.arb(0))
        if not d[k] > 0:
            return False
        for i in range(k + 1, n):
            L[i][k] = (G[i][k] - sum((L[i][j] * L[k][j] * d[j] for j in range(k)), flint.arb(0))) / d[k]
    return True


def _gram(M):
    cols = list(zip(*M))
    return [[sum((a * b for a, b in zip(ci, cj)), flint.arb(0)) for cj in cols] for ci in cols]


def point_norm_upper(C):
    """An exact arb ``μ`` with ``||C||₂ < μ`` for the exact matrix ``C`` (lists of exact arb), or None."""
    Cf = np.array([[float(e) for e in row] for row in C])
    sigma = float(np.linalg.norm(Cf, 2)) if Cf.size else 0.0
    if sigma == 0.0:
        return flint.arb(0) if all(e == 0 for row in C for e in row) else None
    G = _gram(C)
    for slack in (2.0 ** -40, 2.0 ** -20, 2.0 ** -8):
        mu = flint.arb(sigma * (1 + slack))
        mu2 = mu * mu
        if ldl_positive([[mu2 - g if i == j else -g for j, g in enumerate(row)] for i, row in enumerate(G)]):
            return mu
    return None


def upper(M):
    """An arb upper bound of ``||M||₂`` over every member of the interval matrix ``M``."""
    mids = [[flint.arb(e.mid()) for e in row] for row in M]
    rads = [[flint.arb(e.rad()) for e in row] for row in M]
    cands = []
    mu = point_norm_upper(mids)
    if mu is not None:
        cands.append(mu + _onenorm_inf(rads))
    absu = [[e.abs_upper() for e in row] for row in M]
    cands.append(_onenorm_inf(absu))
    G = _gram(M)
    cands.append(max((sum((g.abs_upper() for g in row), flint.arb(0)) for row in G), key=lambda v: v.upper())
                 .upper().sqrt())
    return min((c.upper() for c in cands), key=lambda v: v.upper()).upper()


def _onenorm_inf(N):
    """``sqrt(||N||₁ ||N||∞)`` for a nonnegative matrix of arbs, as an arb upper bound."""
    rows = [sum(row, flint.arb(0)) for row in N]
    cols = [sum(col, flint.arb(0)) for col in zip(*N)]
    top = lambda vs: max((v.upper() for v in vs), key=lambda v: v.upper()) if vs else flint.arb(0)  # noqa: E731
    return (top(rows) * top(cols)).upper().sqrt()


def point_norm_lower(M):
    """A rigorous lower bound of ``||M||₂`` for the matrix enclosed by ``M`` (thin balls), with ``v``."""
    Cf = np.array([[float(e.mid()) for e in row] for row in M])
    _, _, vt = np.linalg.svd(Cf)
    v = [flint.arb(float(t)) for t in vt[0]]
    Mv = [sum((e * t for e, t in zip(row, v)), flint.arb(0)) for row in M]
    num = sum((y * y for y in Mv), flint.arb(0))
    den = sum((t * t for t in v), flint.arb(0))
    low = (num / den).lower()
    return (low.sqrt().lower() if low > 0 else flint.arb(0)), vt[0]
