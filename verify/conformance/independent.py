r"""A second high-precision evaluation of loss and gradient, written from the definitions only.

It shares no code with :mod:`attnreg.reference`: the loss is ``½ΣC²`` with ``C = D⁻¹U − B``
(normalized) or ``½ΣH²`` with ``H = U − D B`` (rescaled), ``U = exp(A1 X A2ᵀ)``, and each gradient
entry is the *forward-mode* directional derivative along the unit matrix ``E_ik`` (product and quotient
rules applied to the same expressions: ``U' = U∘S'`` with ``S' = A1 E_ik A2ᵀ``, ``α' = U'1``,
``F' = U'/α − U α'/α²``, ``L' = Σ C∘F'``; rescaled ``H' = U' − α'B``, ``L' = Σ H∘H'``), never the
reverse-mode formula ``A1ᵀ P A2`` the reference uses. Saturated rows cancel ``u_k − α b_k`` between
numbers of size ``e^{max S}``, so the working precision is ``dps + 2·max|S|/ln 10`` digits.

>>> import numpy as np
>>> L, G = loss_and_grad(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)), np.zeros((1, 1)), "normalized")
>>> float(L), float(G[0][0])
(0.0, 0.0)
"""
from __future__ import annotations

import math

import mpmath


def working_dps(max_abs_logit: float, dps: int = 300) -> int:
    """Digits that keep ``dps`` after cancelling two terms of size ``e^{2·max|S|}``."""
    return dps + int(math.ceil(2 * max_abs_logit / math.log(10))) + 10


def _mat(ctx, M):
    return [[ctx.mpf(float(v)) for v in row] for row in M]


def _rows_loss_and_dirs(ctx, S, B, dirs, version):
    """Loss and the directional derivatives along logit perturbations ``S'_jk = a[j]·c[k]``, one per
    ``(a, c)`` in ``dirs`` (a rank-one ``S'`` is what ``X' = E_ik`` gives: ``a = A1[:, i]``, ``c = A2[:, m]``)."""
    rows, n = len(S), len(S[0])
    U = [[ctx.exp(v) for v in row] for row in S]
    alpha = [ctx.fsum(row) for row in U]
    if version == "normalized":
        R = [[U[j][k] / alpha[j] - B[j][k] for k in range(n)] for j in range(rows)]  # C
    else:
        R = [[U[j][k] - alpha[j] * B[j][k] for k in range(n)] for j in range(rows)]  # H
    loss = ctx.fsum(v * v for row in R for v in row) / 2
    out = []
    for a, c in dirs:
        terms = []
        for j in range(rows):
            dU = [U[j][k] * a[j] * c[k] for k in range(n)]
            da = ctx.fsum(dU)
            for k in range(n):
                if version == "normalized":
                    dR = dU[k] / alpha[j] - U[j][k] * da / (alpha[j] * alpha[j])
                else:
                    dR = dU[k] - da * B[j][k]
                terms.append(R[j][k] * dR)
        out.append(ctx.fsum(terms))
    return loss, out


def loss_and_grad(A1, A2, B, X, version, dps=300):
    """Matrix form: ``(L, G)`` with ``G`` a list of d lists of mpf, at ``dps`` correct-ish digits."""
    ctx = mpmath.MPContext()
    ctx.dps = 30
    A1m, A2m, Bm, Xm = (_mat(ctx, M) for M in (A1, A2, B, X))
    n, d = len(A1m), len(Xm)
    S30 = [[ctx.fsum(A1m[j][i] * Xm[i][k2] * A2m[k][k2] for i in range(d) for k2 in range(d)) for k in range(n)]
           for j in range(n)]
    ctx.dps = working_dps(float(max(abs(v) for row in S30 for v in row)), dps)
    A1m, A2m, Bm, Xm = (_mat(ctx, M) for M in (A1, A2, B, X))
    XA2 = [[ctx.fsum(Xm[i][k2] * A2m[k][k2] for k2 in range(d)) for k in range(n)] for i in range(d)]
    S = [[ctx.fsum(A1m[j][i] * XA2[i][k] for i in range(d)) for k in range(n)] for j in range(n)]
    col = lambda M, i: [row[i] for row in M]
    dirs = ((col(A1m, i), col(A2m, m)) for i in range(d) for m in range(d))
    loss, g = _rows_loss_and_dirs(ctx, S, Bm, dirs, version)
    return loss, [g[i * d:(i + 1) * d] for i in range(d)]


def vector_loss_and_grad(A, b, x, version, dps=300):
    """Vector form: ``(L, g)`` with ``g`` a list of d mpf."""
    ctx = mpmath.MPContext()
    ctx.dps = 30
    s30 = [ctx.fsum(ctx.mpf(float(a)) * ctx.mpf(float(v)) for a, v in zip(row, x)) for row in A]
    ctx.dps = working_dps(float(max(abs(v) for v in s30)), dps)
    Am, xm = _mat(ctx, A), [ctx.mpf(float(v)) for v in x]
    d = len(xm)
    s = [ctx.fsum(a * v for a, v in zip(row, xm)) for row in Am]
    dirs = (([ctx.one], [row[i] for row in Am]) for i in range(d))  # s' = A[:, i] for x' = e_i
    return _rows_loss_and_dirs(ctx, [s], [[ctx.mpf(float(v)) for v in b]], dirs, version)
