r"""Vector and matrix forms in ball arithmetic (``arb``/``arb_mat``); the rows are :mod:`.ball_rows`.

The same formulas as :mod:`.forms` (the mpmath path, which stays the independent second
implementation): vector ``s = A x``, ``∇L = Aᵀ p``, ``∇²L = Aᵀ K A``; matrix ``S = A1 X A2ᵀ``,
``∇_X L = A1ᵀ P A2``, ``∇²L[V] = A1ᵀ dP A2`` (``dp_j = K_j ds_j``, ``dS = A1 V A2ᵀ``) and, in
row-major ``x = vec(X)``, ``∇²L = Σ_j (a_j a_jᵀ) ⊗ M_j`` with ``M_j = A2ᵀ K_j A2`` built from the
diagonal-plus-rank-2 ``K_j`` (:mod:`.hessian_lowrank`), so the dense Hessian costs two
``arb_mat`` products of sizes n × n × d² instead of n dense sandwiches.

Arguments are lists of ``arb`` (rows for matrices), points or balls; results are ``arb`` or (nested)
lists of ``arb`` enclosing the true values over the whole input box. The matrix products run in
flint's C code (``arb_mat``); only the row formulas loop in Python.
"""
from __future__ import annotations

from flint import arb_mat

from . import ball_rows as br


def _mat(rows):
    return arb_mat(rows)


def _rows(M) -> list:
    return [[M[i, j] for j in range(M.ncols())] for i in range(M.nrows())]


def _col(v):
    return arb_mat([[t] for t in v])


# ---- vector form ------------------------------------------------------------------------------

def vector_logits(A, x):
    return [r[0] for r in _rows(_mat(A) * _col(x))]


def vector_loss(A, b, x, version):
    return br.ROW[version](vector_logits(A, x), b)[0]


def vector_loss_and_grad(A, b, x, version):
    loss, p = br.ROW[version](vector_logits(A, x), b)
    return loss, [r[0] for r in _rows(_mat(A).transpose() * _col(p))]


def vector_hvp(A, b, x, v, version):
    K = br.hessian_terms(vector_logits(A, x), b, version)
    dp = br.hessian_times(K, vector_logits(A, v))
    return [r[0] for r in _rows(_mat(A).transpose() * _col(dp))]


def vector_hessian(A, b, x, version):
    g, v, e, kappa = br.hessian_terms(vector_logits(A, x), b, version)
    At = _mat(A).transpose()
    GA = _mat([[gk * t for t in row] for gk, row in zip(g, A)])  # diag(g) A
    va, ea = At * _col(v), At * _col(e)
    return _rows(At * GA - va * ea.transpose() - ea * va.transpose() + kappa * (ea * ea.transpose()))


def vector_blocks(A, x, b=None) -> dict:
    return br.blocks(vector_logits(A, x), b)


# ---- matrix form ------------------------------------------------------------------------------

def logits(A1, A2, X) -> list:
    """``S = A1 X A2ᵀ`` as n rows."""
    return _rows(_mat(A1) * _mat(X) * _mat(A2).transpose())


def _sandwich(A1, A2, P):
    """``A1ᵀ P A2`` as d rows."""
    return _rows(_mat(A1).transpose() * _mat(P) * _mat(A2))


def matrix_loss(A1, A2, B, X, version):
    return br.total(br.ROW[version](s, b)[0] for s, b in zip(logits(A1, A2, X), B))


def matrix_loss_and_grad(A1, A2, B, X, version):
    rows = [br.ROW[version](s, b) for s, b in zip(logits(A1, A2, X), B)]
    return br.total(loss for loss, _ in rows), _sandwich(A1, A2, [p for _, p in rows])


def matrix_hvp(A1, A2, B, X, V, version):
    dP = [br.hessian_times(br.hessian_terms(s, b, version), ds)
          for s, b, ds in zip(logits(A1, A2, X), B, logits(A1, A2, V))]
    return _sandwich(A1, A2, dP)


def matrix_hessian(A1, A2, B, X, version):
    """The d² × d² Hessian in row-major ``vec(X)``: ``Σ_j (a_j a_jᵀ) ⊗ M_j`` (module docstring)."""
    d = len(X)
    G, V, E, kappa = zip(*(br.hessian_terms(s, b, version) for s, b in zip(logits(A1, A2, X), B)))
    W = _mat([[r[l] * r[m] for l in range(d) for m in range(d)] for r in A2])  # W[k, (l,m)] = A2[k,l] A2[k,m]
    square = _rows(_mat(list(G)) * W)  # row j: A2ᵀ diag(g_j) A2, flattened
    VA, EA = _rows(_mat(list(V)) * _mat(A2)), _rows(_mat(list(E)) * _mat(A2))
    M = [[sq[l * d + m] - (va[l] * ea[m] + ea[l] * va[m]) + k * ea[l] * ea[m] for l in range(d) for m in range(d)]
         for sq, va, ea, k in zip(square, VA, EA, kappa)]
    Q = _mat([[r[i] * r[i2] for i in range(d) for i2 in range(d)] for r in A1])  # Q[j, (i,i')] = a_ji a_ji'
    R = _rows(Q.transpose() * _mat(M))  # row (i, i'), column (k, k')
    return [[R[i * d + i2][k * d + k2] for i2 in range(d) for k2 in range(d)] for i in range(d) for k in range(d)]


def matrix_log_alpha(A1, A2, X):
    """``log α_j`` of every row (n values)."""
    return [br.total(t.exp() for t in s).log() for s in logits(A1, A2, X)]


def matrix_blocks(A1, A2, X, B=None) -> dict:
    """``dict(u, alpha, f[, c, h])``: n rows each (``alpha`` a list of the n row sums)."""
    rows = [br.blocks(s, None if B is None else b) for s, b in zip(logits(A1, A2, X), B or [None] * len(A1))]
    return {k: [r[k] for r in rows] for k in rows[0]}


def shifted_target(A1, A2, B, X, A1n, A2n, Xn, version):
    r"""``B̃`` with ``residual_old(B̃) = residual_new(B)``, row by row (``attnreg.icl`` has the derivation).

    Normalized: ``f − B̃ = c'`` gives ``B̃ = B + F(S) − F(S') = F(S) − c'``. Rescaled: ``u − α B̃ = h'``
    gives ``B̃_j = (u_j − u'_j + α'_j B_j) / α_j = (u_j − h'_j) / α_j``. Both are evaluated through the new
    residual (``c'``, ``h'`` of :mod:`.ball_rows`), so a move whose new residual vanishes costs no digits.
    """
    old, new = matrix_blocks(A1, A2, X, B), matrix_blocks(A1n, A2n, Xn, B)
    if version == "normalized":
        return [[fk - ck for fk, ck in zip(f, c)] for f, c in zip(old["f"], new["c"])]
    return [[(uk - hk) / a for uk, hk in zip(u, h)] for u, h, a in zip(old["u"], new["h"], old["alpha"])]
