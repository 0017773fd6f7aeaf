r"""The row Hessian as diagonal plus rank 2, ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ``, and the Hessians built on it.

The structure is proved, not stated here: it is step 3 of Lemma hessian_normalized and Lemma hessian_rescaled
(``attnreg proofs show hessian_normalized``; the family :mod:`attnreg.proofs.twins`). For one softmax row
(logits ``s``, target ``b``; letters of :mod:`.rows`):

* normalized: ``g = f∘(f + c − ⟨f, c⟩)``, ``v = g``, ``e = f``, ``κ = ||f||²``;
* rescaled:   ``g = u∘(h + u − ⟨h, b⟩)``, ``v = u∘b``, ``e = u``, ``κ = ||b||²``.

Consequence (why it exists). In ``x = vec(X)`` (row-major) the matrix Hessian is
``Σ_j (a_j a_jᵀ) ⊗ M_j`` with ``M_j = A2ᵀ K_j A2
= A2ᵀ diag(g_j) A2 − (A2ᵀv_j)(A2ᵀe_j)ᵀ − (A2ᵀe_j)(A2ᵀv_j)ᵀ + κ_j (A2ᵀe_j)(A2ᵀe_j)ᵀ``; stacking rows, it
is two n × n × d² products (``G W`` and ``Qᵀ M``, ``W[k, (l,m)] = A2[k,l] A2[k,m]``,
``Q[j, (i,i')] = A1[j,i] A1[j,i']``) instead of n dense ``K_j`` sandwiches: at n = 64, d = 8 and
60 digits, 0.36 s against 3.5 s (normalized; 2.5 s rescaled) for :func:`.forms.matrix_hessian`,
agreeing to 5e-60 relative.

Check. ``tests/test_solve.py`` compares both Hessians with :func:`.forms.matrix_hessian` and
:func:`.forms.vector_hessian` (the dense ``K`` of :mod:`.rows`) at 40 digits.
"""
from __future__ import annotations

from .forms import logits, matmul, matvec, transpose
from .rows import hessian_terms


def _sandwich(G, VA, EA, kappa, square, d):
    """Rows ``j`` of ``M_j`` flattened (``(l, m)`` row-major) from ``G W`` = ``square``."""
    return [[sq[l * d + m] - (va[l] * ea[m] + ea[l] * va[m]) + k * ea[l] * ea[m] for l in range(d) for m in range(d)]
            for sq, va, ea, k in zip(square, VA, EA, kappa)]


def matrix_hessian(ctx, A1, A2, B, X, version):
    """The d² × d² Hessian in row-major ``vec(X)`` (same value as :func:`.forms.matrix_hessian`)."""
    d = len(X)
    G, V, E, kappa = zip(*(hessian_terms(ctx, s, b, version) for s, b in zip(logits(ctx, A1, A2, X), B)))
    W = [[r[l] * r[m] for l in range(d) for m in range(d)] for r in A2]
    M = _sandwich(G, matmul(ctx, V, A2), matmul(ctx, E, A2), kappa, matmul(ctx, G, W), d)
    Q = [[r[i] * r[i2] for i in range(d) for i2 in range(d)] for r in A1]
    R = matmul(ctx, transpose(Q), M)  # row (i, i'), column (k, k')
    return [[R[i * d + i2][k * d + k2] for i2 in range(d) for k2 in range(d)] for i in range(d) for k in range(d)]


def vector_hessian(ctx, A, b, x, version):
    """``Aᵀ K A`` (d × d; same value as :func:`.forms.vector_hessian`)."""
    d = len(x)
    g, v, e, kappa = hessian_terms(ctx, matvec(ctx, A, x), b, version)
    At = transpose(A)
    va, ea = matvec(ctx, At, v), matvec(ctx, At, e)
    W = [[r[l] * r[m] for l in range(d) for m in range(d)] for r in A]
    square = matvec(ctx, transpose(W), g)
    return [_sandwich([g], [va], [ea], [kappa], [square], d)[0][l * d:(l + 1) * d] for l in range(d)]
