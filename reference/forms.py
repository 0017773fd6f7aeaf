r"""Vector and matrix forms at any precision, ``ctx`` first, on lists of ``ctx.mpf``.

Vector form (``A`` n × d as a list of rows, ``b`` and ``x`` lists): ``s = A x``, one row of
:mod:`.rows`; ``∇L = Aᵀ p``, ``∇²L = Aᵀ K A``.

Matrix form (``A1, A2`` n × d, ``B`` n × n, ``X`` d × d): row j has logits
``s_j = (A1 X A2ᵀ)[j, :]`` and target ``B[j, :]``; ``L = Σ_j ℓ_j``, ``∇_X L = A1ᵀ P A2`` (rows of P are
the ``p_j``), ``∇²L[V] = A1ᵀ dP A2`` with ``dp_j = K_j ds_j``, ``dS = A1 V A2ᵀ``, and in
``x = vec(X)`` (row-major) ``∇²L = Σ_j (a_j a_jᵀ) ⊗ (A2ᵀ K_j A2)``, ``a_j = A1[j, :]``.
These are the straightforward formulas (no blocking, no shift): the reference is meant to be
obviously right, not fast.
"""
from __future__ import annotations

from .rows import ROW, ROW_HESSIAN, softmax


def matmul(ctx, P, Q):
    Qt = transpose(Q)
    return [[ctx.fdot(row, col) for col in Qt] for row in P]


def transpose(P):
    return [list(col) for col in zip(*P)]


def matvec(ctx, P, v):
    return [ctx.fdot(row, v) for row in P]


# ---- vector form -------------------------------------------------------------------------------

def vector_loss(ctx, A, b, x, version):
    return ROW[version](ctx, matvec(ctx, A, x), b)[0]


def vector_loss_and_grad(ctx, A, b, x, version):
    loss, p = ROW[version](ctx, matvec(ctx, A, x), b)
    return loss, matvec(ctx, transpose(A), p)


def vector_hessian(ctx, A, b, x, version):
    K = ROW_HESSIAN[version](ctx, matvec(ctx, A, x), b)
    return matmul(ctx, transpose(A), matmul(ctx, K, A))


def vector_hvp(ctx, A, b, x, v, version):
    K = ROW_HESSIAN[version](ctx, matvec(ctx, A, x), b)
    return matvec(ctx, transpose(A), matvec(ctx, K, matvec(ctx, A, v)))


def vector_blocks(ctx, A, x, b=None):
    """``dict(u, alpha, f[, c, h])`` at ``x`` (``c`` and ``h`` need ``b``)."""
    s = matvec(ctx, A, x)
    u = [ctx.exp(v) for v in s]
    alpha = ctx.fsum(u)
    out = dict(u=u, alpha=alpha, f=softmax(ctx, s))
    if b is not None:
        out["c"] = [fi - bi for fi, bi in zip(out["f"], b)]
        out["h"] = [ui - alpha * bi for ui, bi in zip(u, b)]
    return out


# ---- matrix form -------------------------------------------------------------------------------

def logits(ctx, A1, A2, X):
    """``S = A1 X A2ᵀ`` (n × n)."""
    return matmul(ctx, matmul(ctx, A1, X), transpose(A2))


def matrix_loss(ctx, A1, A2, B, X, version):
    row = ROW[version]
    return ctx.fsum(row(ctx, s, b)[0] for s, b in zip(logits(ctx, A1, A2, X), B))


def matrix_loss_and_grad(ctx, A1, A2, B, X, version):
    rows = [ROW[version](ctx, s, b) for s, b in zip(logits(ctx, A1, A2, X), B)]
    P = [p for _, p in rows]
    return ctx.fsum(loss for loss, _ in rows), matmul(ctx, matmul(ctx, transpose(A1), P), A2)


def matrix_hvp(ctx, A1, A2, B, X, V, version):
    S, dS = logits(ctx, A1, A2, X), logits(ctx, A1, A2, V)
    dP = [matvec(ctx, ROW_HESSIAN[version](ctx, s, b), ds) for s, b, ds in zip(S, B, dS)]
    return matmul(ctx, matmul(ctx, transpose(A1), dP), A2)


def matrix_hessian(ctx, A1, A2, B, X, version):
    """The d² × d² Hessian in row-major ``x = vec(X)``."""
    d = len(X)
    H = [[ctx.zero] * (d * d) for _ in range(d * d)]
    A2t = transpose(A2)
    for a, s, b in zip(A1, logits(ctx, A1, A2, X), B):
        M = matmul(ctx, A2t, matmul(ctx, ROW_HESSIAN[version](ctx, s, b), A2))
        for i in range(d):
            for k in range(d):
                for i2 in range(d):
                    aa = a[i] * a[i2]
                    for k2 in range(d):
                        H[i * d + k][i2 * d + k2] += aa * M[k][k2]
    return H


def matrix_blocks(ctx, A1, A2, X, B=None):
    """``dict(u, alpha, f[, c, h])``: n × n lists of rows (``alpha`` a list of the n row sums)."""
    U = [[ctx.exp(v) for v in s] for s in logits(ctx, A1, A2, X)]
    alpha = [ctx.fsum(u) for u in U]
    out = dict(u=U, alpha=alpha, f=[[v / a for v in u] for u, a in zip(U, alpha)])
    if B is not None:
        out["c"] = [[fi - bi for fi, bi in zip(f, b)] for f, b in zip(out["f"], B)]
        out["h"] = [[ui - a * bi for ui, bi in zip(u, b)] for u, a, b in zip(U, alpha, B)]
    return out
