r"""Lemma tensor_trick (tensor trick): vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(X); vec_col(A1 X A2ᵀ) = (A2 ⊗ A1) vec_col(X)

Statement
    For A1, A2 ∈ R^{n×d} and X ∈ R^{d×d}, with the row-major vec x = vec(X), x[i·d + k] = X[i, k]:
        vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(X),
    where (P ⊗ Q)[i·q + k, j·q′ + m] = P[i, j] Q[k, m] (Q of size q × q′). With the column-major
    vec_col(Y) = vec(Yᵀ) the identity needs the other order: vec_col(A1 X A2ᵀ) = (A2 ⊗ A1) vec_col(X)
    (column-major vec with A1 ⊗ A2 is wrong in general: a classic silent bug). Also ||vec(X)||₂ = ||X||_F.

Check
    sympy at n = 3, d = 2 (slow tier: also n = 4, d = 3); numeric: 60-digit mpmath at n = 5,
    d = 4, logits from attnreg.reference.forms.logits against the Kronecker product built entry by entry.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._numeric import agree, rand_matrix
from ._ops import SYM, MpOps, vec
from .symbols import matrix


def steps(n, d):
    A1, A2, X = matrix("A1", n, d), matrix("A2", n, d), matrix("X", d, d)
    S = A1 * X * A2.T
    sums = sp.Matrix(n, n, lambda j, m: sum(A1[j, i] * X[i, k] * A2[m, k] for i in range(d) for k in range(d)))
    return [
        Step("(A1 X A2ᵀ)[j, m] = Σ_{i,k} A1[j,i] X[i,k] A2[m,k]", "matrix product", S, sums),
        Step("vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(X)", "row j·n + m of A1 ⊗ A2 is A1[j, i] A2[m, k] at column i·d + k",
             vec(S, SYM), SYM.kron(A1, A2) * vec(X, SYM)),
        Step("vec_col(A1 X A2ᵀ) = (A2 ⊗ A1) vec_col(X)", "vec_col(Y) = vec(Yᵀ) and (A1 X A2ᵀ)ᵀ = A2 Xᵀ A1ᵀ; step 2",
             vec(S.T, SYM), SYM.kron(A2, A1) * vec(X.T, SYM)),
        Step("||vec(X)||₂² = ||X||_F²", "both are Σ X[i,k]²", (vec(X, SYM).T * vec(X, SYM))[0, 0], (X.T * X).trace()),
    ]


def numeric(ctx, rng):
    ops, n, d = MpOps(ctx), 5, 4
    A1, A2, X = (rand_matrix(ctx, rng, r, c) for r, c in ((n, d), (n, d), (d, d)))
    S = ops.matrix(forms.logits(ctx, A1, A2, X))
    A1m, A2m, Xm = ops.matrix(A1), ops.matrix(A2), ops.matrix(X)
    return agree(ctx, [(list(vec(S, ops)), list(ops.kron(A1m, A2m) * vec(Xm, ops))),
                       (list(vec(S.T, ops)), list(ops.kron(A2m, A1m) * vec(Xm.T, ops)))],
                 "reference logits A1 X A2ᵀ vs (A1 ⊗ A2) vec(X) and (A2 ⊗ A1) vec_col(X), n=5, d=4")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, sizes=((3, 2),),
              slow_sizes=((4, 3),), shows=(2, 3))
