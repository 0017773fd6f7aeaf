"""An independent high-precision oracle for the tests: mpmath straight from the definitions.

Not attnreg.reference (a separate implementation): every quantity is written from the definitions in
docs/design.md §2 at a working precision chosen from the logits, so that no cancellation the float kernels
must avoid can reach the digits compared. Rows are given by their logits ``S`` (k × n) and targets
``B``; with ``A1 = A2 = I`` the matrix form's gradient in ``X = S`` is ``P`` itself and its Hessian is
block diagonal with the row Hessians ``K_j`` (taken here by central differences of the gradient, an
independent route to the second derivative).
"""
from __future__ import annotations

import mpmath
import numpy as np


def context(S, extra=60):
    """A local mpmath context with enough digits for logits ``S``: ``e^{±2 max|S|}`` plus ``extra``."""
    ctx = mpmath.MPContext()
    ctx.dps = int(2 * float(np.max(np.abs(S))) / 2.3) + 2 * extra + 300
    return ctx


def _rows(ctx, S, B):
    return [[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(S)], \
           [[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(B)]


def row_loss_and_p(ctx, s, b, version):
    """``(ℓ, p)`` of one row from the definitions."""
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


def loss(S, B, version):
    ctx = context(S)
    Sm, Bm = _rows(ctx, S, B)
    return ctx.fsum(row_loss_and_p(ctx, s, b, version)[0] for s, b in zip(Sm, Bm)), ctx


def grad(S, B, version):
    """``P`` (k × n mpf lists): the gradient in ``X`` when ``A1 = A2 = I``."""
    ctx = context(S)
    Sm, Bm = _rows(ctx, S, B)
    return [row_loss_and_p(ctx, s, b, version)[1] for s, b in zip(Sm, Bm)], ctx


def hvp(S, B, dS, version):
    """``(∂P/∂S)[dS]`` by a central difference of the gradient with step ``10^{-dps/3}``."""
    ctx = context(S)
    Sm, Bm = _rows(ctx, S, B)
    dSm = _rows(ctx, dS, dS)[0]
    step = ctx.mpf(10) ** (-ctx.dps // 3)
    out = []
    for s, b, ds in zip(Sm, Bm, dSm):
        plus = row_loss_and_p(ctx, [v + step * w for v, w in zip(s, ds)], b, version)[1]
        minus = row_loss_and_p(ctx, [v - step * w for v, w in zip(s, ds)], b, version)[1]
        out.append([(p - m) / (2 * step) for p, m in zip(plus, minus)])
    return out, ctx


def rescaled_h(S, B):
    ctx = context(S)
    Sm, Bm = _rows(ctx, S, B)
    out = []
    for s, b in zip(Sm, Bm):
        u = [ctx.exp(v) for v in s]
        a = ctx.fsum(u)
        out.append([ui - a * bi for ui, bi in zip(u, b)])
    return out, ctx


def flat(exact):
    """Entries of a scalar, list or list of lists of mpf, flattened row-major."""
    if not isinstance(exact, list):
        return [exact]
    return [x for r in exact for x in (r if isinstance(r, list) else [r])]


def relerr(value, exact, ctx) -> float:
    """Largest entrywise error relative to the largest exact entry (normwise in the ∞-norm), in ``ctx``."""
    v = np.asarray(value, dtype=float).ravel().tolist()
    e = flat(exact)
    assert len(v) == len(e), (len(v), len(e))
    scale = max(abs(x) for x in e)
    err = max(abs(ctx.mpf(vi) - ei) if np.isfinite(vi) else ctx.inf for vi, ei in zip(v, e))
    return float(err) if scale == 0 else float(err / scale)


# Quantities as functions of mp rows (for verify.errormodel.condition): each returns a flat list of mpf.
def q_loss(ctx, version):
    return lambda S, B: [ctx.fsum(row_loss_and_p(ctx, s, b, version)[0] for s, b in zip(S, B))]


def q_grad(ctx, version):
    return lambda S, B: [v for s, b in zip(S, B) for v in row_loss_and_p(ctx, s, b, version)[1]]


def q_hvp(ctx, version, dS):
    dS = [[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(dS)]
    step = ctx.mpf(10) ** (-ctx.dps // 3)

    def q(S, B):
        out = []
        for s, b, ds in zip(S, B, dS):
            plus = row_loss_and_p(ctx, [v + step * w for v, w in zip(s, ds)], b, version)[1]
            minus = row_loss_and_p(ctx, [v - step * w for v, w in zip(s, ds)], b, version)[1]
            out.extend((p - m) / (2 * step) for p, m in zip(plus, minus))
        return out
    return q


def mp_rows(ctx, M):
    return [[ctx.mpf(float(v)) for v in r] for r in np.atleast_2d(M)]
