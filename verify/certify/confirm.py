r"""``||M(x)||₂`` and the target at 50 digits through the mpmath reference (an independent route).

``M`` is built from :mod:`attnreg.reference.forms` / :mod:`attnreg.reference.rows` — the straightforward
formulas ``J = (diag f − f fᵀ) A`` and ``∇²L = Aᵀ K A`` — at ``dps + 10`` digits, and its largest
singular value taken by mpmath's SVD. Used to confirm a counterexample found by the branch-and-bound.
"""
from __future__ import annotations

import mpmath

from attnreg.reference import forms
from attnreg.reference import rows as R
from attnreg.reference.norms import spectral

from .spec import factors


def _rows(ctx, prob):
    data = prob["data"]
    mp = lambda M: [[ctx.mpf(v) for v in r] for r in M]  # noqa: E731
    if prob["form"] == "vector":
        A = mp(data["A"])
        return [(A, [ctx.mpf(v) for v in data["b"]] if "b" in data else [ctx.zero] * len(A))]
    A1, A2 = mp(data["A1"]), mp(data["A2"])
    n, d = len(A1), len(A1[0])
    B = mp(data["B"]) if "B" in data else [[ctx.zero] * n for _ in range(n)]
    return [([[A1[j][i] * A2[l][k] for i in range(d) for k in range(d)] for l in range(n)], B[j]) for j in range(n)]


def matrix_at(ctx, prob, x):
    """``M(x)`` as an mpmath matrix (x: list of ctx.mpf)."""
    blocks = _rows(ctx, prob)
    if prob["quantity"] == "f":
        out = []
        for A, _ in blocks:
            f = R.softmax(ctx, forms.matvec(ctx, A, x))
            S = [[f[i] * (i == k) - f[i] * f[k] for k in range(len(f))] for i in range(len(f))]
            out.extend(forms.matmul(ctx, S, A))
        return ctx.matrix(out)
    p = len(x)
    H = ctx.matrix(p, p)
    for A, b in blocks:
        H += ctx.matrix(forms.vector_hessian(ctx, A, b, x, prob["version"]))
    return H


def target_at(ctx, prob):
    text = prob["target"]
    try:
        return ctx.mpf(text)
    except ValueError:
        pass
    nums, powers = factors(text, prob["form"])
    value = ctx.one
    for s in nums:
        value *= ctx.mpf(s)
    for name, k in powers.items():
        value *= spectral(ctx, ctx.matrix([[ctx.mpf(v) for v in r] for r in prob["data"][name]])) ** k
    return value


def norm_at(prob, point, dps=50):
    """``(||M(point)||₂, target)`` at ``dps`` digits (computed with 10 guard digits)."""
    ctx = mpmath.MPContext()
    ctx.dps = dps + 10
    x = [ctx.mpf(v) for v in point]
    return spectral(ctx, matrix_at(ctx, prob, x)), target_at(ctx, prob)
