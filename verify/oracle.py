r"""An mpmath oracle written straight from the definitions (docs/design.md §2), independent of attnreg.reference.

Rows are given by their logits ``S`` (k × n) and targets ``B``; with ``A1 = A2 = I`` the matrix form's
gradient in ``X = S`` is ``P`` itself, so the loss, ``P`` and the HVP of the row losses are the matrix form's.
Every quantity is evaluated at a working precision chosen from the logits (:func:`context`:
``e^{±2 max|S|}`` plus guard digits), so that no cancellation the float kernels must avoid reaches the
digits compared. The HVP is a central difference of the gradient, an independent route to the second
derivative. Used by the edge checks (verify/checks/edges.py) and the tests (tests/mp_oracle.py);
tests/test_oracle.py checks it against the ctx route of attnreg.reference.
"""
from __future__ import annotations

import mpmath
import numpy as np


def context(S, extra: int = 60):
    """A local mpmath context with enough digits for logits ``S``: ``e^{±2 max|S|}`` plus ``2·extra + 300``."""
    ctx = mpmath.MPContext()
    ctx.dps = int(2 * float(np.max(np.abs(S))) / 2.3) + 2 * extra + 300
    return ctx


def mp_rows(ctx, M):
    """The rows of ``M`` (array-like, 1 or 2 dimensions) as lists of ``ctx.mpf`` (floats exactly)."""
    return [[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(M)]


def row(ctx, s, b, version):
    """``(ℓ, p)`` of one row from the definitions: ``p = (diag f − ffᵀ)(f − b)`` or ``u∘h − ⟨h, b⟩u``."""
    u = [ctx.exp(v) for v in s]
    a = ctx.fsum(u)
    if version == "normalized":
        f = [v / a for v in u]
        c = [fi - bi for fi, bi in zip(f, b)]
        fc = ctx.fsum(fi * ci for fi, ci in zip(f, c))
        return ctx.fsum(ci * ci for ci in c) / 2, [fi * ci - fc * fi for fi, ci in zip(f, c)]
    h = [ui - a * bi for ui, bi in zip(u, b)]
    hb = ctx.fsum(hi * bi for hi, bi in zip(h, b))
    return ctx.fsum(hi * hi for hi in h) / 2, [ui * hi - hb * ui for ui, hi in zip(u, h)]


def quantity(ctx, name, version, dS=None):
    """``q(S, B) -> flat list of mpf`` (rows of mpf in, row-major out) for ``name`` in loss / grad / hvp; the
    HVP is along ``dS`` by a central difference of the gradient with step ``10^{−⌊dps/3⌋}``."""
    if name == "loss":
        return lambda S, B: [ctx.fsum(row(ctx, s, b, version)[0] for s, b in zip(S, B))]
    if name == "grad":
        return lambda S, B: [v for s, b in zip(S, B) for v in row(ctx, s, b, version)[1]]
    step = ctx.mpf(10) ** (-(ctx.dps // 3))
    dSm = mp_rows(ctx, dS)

    def hvp(S, B):
        out = []
        for s, b, ds in zip(S, B, dSm):
            plus = row(ctx, [v + step * w for v, w in zip(s, ds)], b, version)[1]
            minus = row(ctx, [v - step * w for v, w in zip(s, ds)], b, version)[1]
            out.extend((p - m) / (2 * step) for p, m in zip(plus, minus))
        return out
    return hvp
