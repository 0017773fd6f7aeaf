r"""Lemma kron_blocks (row blocks of a Kronecker product): A_[j], rows j·n … j·n + n − 1 of A1 ⊗ A2, is A1[j,:] ⊗ A2;
A_[j] x = (row j of A1 X A2ᵀ)ᵀ

Statement
    Let A = A1 ⊗ A2 ∈ R^{n²×d²} and x = vec(X) (row-major). Block j of A (rows j·n … j·n + n − 1) is
        A_[j] = A1[j, :] ⊗ A2 ∈ R^{n×d²},   and   A_[j] x = (row j of A1 X A2ᵀ)ᵀ = A2 Xᵀ A1[j, :]ᵀ.
    Adjoint form (used by every matrix gradient): for P ∈ R^{n×n} with rows p_jᵀ,
        Aᵀ vec(P) = Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2).
    So the matrix problem is n coupled vector problems sharing x, row j with data A_[j].

Check
    sympy at n = 3, d = 2 with P a matrix of free symbols (slow tier: also n = 4, d = 3); numeric:
    60 digits at n = 5, d = 4, logits from attnreg.reference.forms.logits.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._numeric import agree, rand_matrix
from ._ops import SYM, MpOps, row, vec
from .symbols import matrix


def blocks(A1, A2, ops):
    return [ops.kron(A1[j, :], A2) for j in range(A1.rows)]


def steps(n, d):
    A1, A2, X, P = matrix("A1", n, d), matrix("A2", n, d), matrix("X", d, d), matrix("P", n, n)
    A, x, S = SYM.kron(A1, A2), vec(X, SYM), A1 * X * A2.T
    Aj = blocks(A1, A2, SYM)
    return [
        Step("A_[j], rows j·n … j·n + n − 1 of A1 ⊗ A2, is A1[j,:] ⊗ A2", "definition of ⊗",
             sp.Matrix.vstack(*[A[j * n:(j + 1) * n, :] for j in range(n)]), sp.Matrix.vstack(*Aj)),
        Step("A_[j] x = (row j of A1 X A2ᵀ)ᵀ", "Lemma tensor_trick, rows j·n … j·n + n − 1",
             sp.Matrix.vstack(*[Aj[j] * x for j in range(n)]), sp.Matrix.vstack(*[row(S, j) for j in range(n)]),
             uses=("tensor_trick",)),
        Step("A_[j] x = A2 Xᵀ A1[j,:]ᵀ", "transpose of row j of A1 X A2ᵀ",
             sp.Matrix.vstack(*[Aj[j] * x for j in range(n)]),
             sp.Matrix.vstack(*[A2 * X.T * row(A1, j) for j in range(n)])),
        Step("Aᵀ vec(P) = Σ_j A_[j]ᵀ p_j", "split the rows of A into its n blocks",
             A.T * vec(P, SYM), sum((Aj[j].T * row(P, j) for j in range(n)), sp.zeros(d * d, 1))),
        Step("Σ_j A_[j]ᵀ p_j = vec(A1ᵀ P A2)", "entry (i, k) of both is Σ_{j,m} A1[j,i] P[j,m] A2[m,k]",
             sum((Aj[j].T * row(P, j) for j in range(n)), sp.zeros(d * d, 1)), vec(A1.T * P * A2, SYM)),
    ]


def numeric(ctx, rng):
    ops, n, d = MpOps(ctx), 5, 4
    A1, A2, X, P = (ops.matrix(rand_matrix(ctx, rng, r, c)) for r, c in ((n, d), (n, d), (d, d), (n, n)))
    S = ops.matrix(forms.logits(ctx, A1.tolist(), A2.tolist(), X.tolist()))
    Aj, x = blocks(A1, A2, ops), vec(X, ops)
    adj = ops.zeros(d * d, 1)
    for j in range(n):
        adj += Aj[j].T * row(P, j)
    pairs = [(list(Aj[j] * x), list(row(S, j))) for j in range(n)]
    pairs.append((list(adj), list(vec(A1.T * P * A2, ops))))
    return agree(ctx, pairs,
                 "A_[j] vec(X) vs row j of the reference logits, and Σ_j A_[j]ᵀ p_j vs vec(A1ᵀ P A2), n=5, d=4")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("tensor_trick",),
              sizes=((3, 2),), slow_sizes=((4, 3),), shows=(1, 2))
