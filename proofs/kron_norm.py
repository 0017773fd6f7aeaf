r"""Lemma kron_norm (norm of a Kronecker product): ‖A1 ⊗ A2‖ = ‖A1‖*‖A2‖

Statement
    For any real matrices A1, A2 (spectral norms): ||A1 ⊗ A2|| = ||A1|| ||A2||. With x = vec(X) this
    turns a hypothesis ||A1|| ≤ r1, ||A2|| ≤ r2 into ||A|| ≤ r1 r2 for A = A1 ⊗ A2.

Check
    Side identities by sympy at n = 3, d = 2 (slow tier: also n = 4, d = 3) with vectors v, w of free
    symbols; composition by sympy;
    numeric: 60-digit singular values (mpmath svd_r) of A1 ⊗ A2 at n = 4, d = 3.
"""
from __future__ import annotations

import sympy as sp

from ._core import Goal, Lemma, Step, by
from ._numeric import agree, rand_matrix, spectral
from ._ops import SYM, MpOps
from .symbols import KRON, N1, N2, matrix, quantity, vector

LAM = quantity("λ_max((A1⊗A2)ᵀ(A1⊗A2))", r"\lambda_{\max}((A_1\otimes A_2)^\top(A_1\otimes A_2))")
L1 = quantity("λ_max(A1ᵀA1)", r"\lambda_{\max}(A_1^\top A_1)")
L2 = quantity("λ_max(A2ᵀA2)", r"\lambda_{\max}(A_2^\top A_2)")


def steps(n, d):
    A1, A2, v, w = matrix("A1", n, d), matrix("A2", n, d), vector("v", d), vector("w", d)
    K = SYM.kron(A1, A2)
    P, Q = A1.T * A1, A2.T * A2
    mixed = Step("(A1 ⊗ A2)ᵀ(A1 ⊗ A2) = (A1ᵀA1) ⊗ (A2ᵀA2)", "mixed product rule", K.T * K, SYM.kron(P, Q))
    eig = Step("(P ⊗ Q)(v ⊗ w) = (Pv) ⊗ (Qw)", "mixed product rule", SYM.kron(P, Q) * SYM.kron(v, w),
               SYM.kron(P * v, Q * w))
    return [
        by("spectral_norm", KRON, "=", sp.sqrt(LAM), "the spectral norm is the largest singular value"),
        by("kron_spectrum", LAM, "=", L1 * L2, "eigenvectors v ⊗ w; both factors are positive semidefinite, "
           "so the largest product of eigenvalues is the product of the largest", side=(mixed, eig)),
        by("spectral_norm", L1, "=", N1 ** 2, "singular values of A1"),
        by("spectral_norm", L2, "=", N2 ** 2, "singular values of A2"),
    ]


def numeric(ctx, rng):
    ops, pairs = MpOps(ctx), []
    for n, d in ((4, 3), (5, 2), (3, 3)):
        A1, A2 = ops.matrix(rand_matrix(ctx, rng, n, d)), ops.matrix(rand_matrix(ctx, rng, n, d))
        pairs.append(([spectral(ctx, ops.kron(A1, A2).tolist())],
                      [spectral(ctx, A1.tolist()) * spectral(ctx, A2.tolist())]))
    return agree(ctx, pairs, "svd of A1 ⊗ A2 vs product of the svd norms, (n, d) ∈ {(4,3), (5,2), (3,3)}")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, goal=Goal(KRON, "=", N1 * N2),
              sizes=((3, 2),), slow_sizes=((4, 3),))
