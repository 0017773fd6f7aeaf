r"""Lemma xzw_invariance (a flat direction): if A2 w = 1ₙ: L_N(X + z wᵀ) = L_N(X); A1ᵀ dP A2 = 0 for V = z wᵀ

Statement
    Let w ∈ R^d with A2 w = 1ₙ (solvable when 1ₙ is in the range of A2). For every z ∈ R^d:
        D(X + z wᵀ)⁻¹ exp(A1 (X + z wᵀ) A2ᵀ) = D(X)⁻¹ exp(A1 X A2ᵀ),   so   L_N(X + z wᵀ) = L_N(X),
    and the normalized Hessian is singular along vec(z wᵀ) = z ⊗ w:  ∇²L_N(X)[z wᵀ] = 0.
    That A1ᵀ dP A2 (dS = A1 V A2ᵀ, dp_j = K_j ds_j) is ∇²L_N(X)[V] is the chain rule for the linear map
    vec(S) = (A1 ⊗ A2) vec(X), which Lemma matrix_hvp trusts (its explanation) and checks only by its numeric route:
    no formal claim states it, so the formal claim here is A1ᵀ dP A2 = 0, not ∇²L_N(X)[z wᵀ] = 0 (review RVPROOFS4:
    the claim read "∇²L_N(X)[z wᵀ] = A1ᵀ dP A2 (Lemma matrix_hvp) = 0", citing as proved what matrix_hvp does not
    state). The numeric route below checks ∇²L_N[z wᵀ] = 0 itself.
    So any "the Hessian is positive definite" claim for the matrix problem needs a regularizer or an
    assumption excluding 1ₙ ∈ range(A2).

Check
    sympy at n = 3, d = 2 with the last column of A2 solved from A2 w = 1ₙ; numeric:
    attnreg.reference.forms.matrix_loss and matrix_hvp at 60 digits, n = 4, d = 3.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._forms import LOSS, k_normalized, matrix_rows, parts, stack
from ._numeric import agree, matrix_point, rand_vector
from ._ops import SYM, vec
from .symbols import matrix, vector


def solved_A2(A2, w, ones):
    """A2 with its last column replaced so that A2 w = 1 (w[-1] ≠ 0)."""
    d = A2.cols
    last = (ones - A2[:, :d - 1] * w[:d - 1, :]) / w[d - 1]
    return A2[:, :d - 1].row_join(last)


def steps(n, d):
    A1, B, X = matrix("A1", n, d), matrix("B", n, n), matrix("X", d, d)
    z, w = vector("z", d), vector("w", d)
    A2 = solved_A2(matrix("A2", n, d), w, SYM.ones(n))
    S, rows = matrix_rows(SYM, A1, A2, X, B)
    S2, rows2 = matrix_rows(SYM, A1, A2, X + z * w.T, B)
    dS, shift = A1 * z * w.T * A2.T, A1 * z * SYM.ones(n).T
    # row j of dP is K_j ds_j, with ds_j = (A1 z)_j 1ₙ by step 2 (a rational identity, cheap to decide). K_j is
    # K_N at logits s_j = row j of S; it is built at free logits s_j (an identity for every s_j holds at
    # s_j = row j of S), which keeps the expressions small enough to decide at n = 3.
    free = [parts(SYM, vector(f"s{j}", n), B[j, :].T) for j in range(n)]
    dP = stack(SYM, [k_normalized(SYM, r.f, r.c) * shift[j, :].T for j, r in enumerate(free)])
    return [
        Step("A2 w = 1ₙ", "construction of A2", A2 * w, SYM.ones(n)),
        Step("dS = A1 (z wᵀ) A2ᵀ = (A1 z) 1ₙᵀ", "A2 w = 1ₙ", dS, shift),
        Step("A1 (X + z wᵀ) A2ᵀ = S + (A1 z) 1ₙᵀ", "A2 w = 1ₙ", S2, S + A1 * z * SYM.ones(n).T),
        Step("F(X + z wᵀ) = F(X)", "Lemma row_shift, row j shifted by (A1 z)_j", stack(SYM, [r.f for r in rows2]),
             stack(SYM, [r.f for r in rows]), uses=("row_shift",)),
        Step("L_N(X + z wᵀ) = L_N(X)", "step 3", sum(LOSS["normalized"](SYM, r) for r in rows2),
             sum(LOSS["normalized"](SYM, r) for r in rows)),
        Step("dP = 0 for V = z wᵀ: its rows dp_j = K_j ds_j vanish", "ds_j = (A1 z)_j 1ₙ (step 2) and K_N 1 = 0 "
             "(Lemma row_shift)", dP, sp.zeros(n, n), uses=("row_shift",)),
        Step("A1ᵀ dP A2 = 0 for V = z wᵀ", "from dP = 0 (step 6); that A1ᵀ dP A2 is ∇²L_N(X)[z wᵀ] is the chain "
             "rule that Lemma matrix_hvp trusts and checks only numerically (its explanation), so it is not claimed "
             "here", A1.T * dP * A2, sp.zeros(d, d), uses=("matrix_hvp",)),
        Step("vec(z wᵀ) = z ⊗ w", "row-major vec", vec(z * w.T, SYM), SYM.kron(z, w)),
    ]


def numeric(ctx, rng):
    ops, A1, A2, B, X = matrix_point(ctx, rng)
    n, d = A2.rows, A2.cols
    w, z = ops.col(rand_vector(ctx, rng, d)), ops.col(rand_vector(ctx, rng, d))
    for j in range(n):  # last column solved from A2 w = 1
        A2[j, d - 1] = (1 - sum(A2[j, k] * w[k] for k in range(d - 1))) / w[d - 1]
    args = A1.tolist(), A2.tolist(), B.tolist()
    L = lambda Y: forms.matrix_loss(ctx, *args, Y.tolist(), "normalized")  # noqa: E731
    V = z * w.T
    hv = forms.matrix_hvp(ctx, *args, X.tolist(), V.tolist(), "normalized")
    ref = forms.matrix_hvp(ctx, *args, X.tolist(), ops.matrix(rand_matrix_like(ctx, rng, d)).tolist(), "normalized")
    scale = max(abs(v) for row in ref for v in row)
    return agree(ctx, [([L(X + V)], [L(X)]), ([v / scale for row in hv for v in row], [0] * (d * d))],
                 "reference L_N at X + z wᵀ vs X, and ∇²L_N[z wᵀ] (reference matrix_hvp) relative to ∇²L_N[V] for "
                 "a random V, with A2 w = 1, n=4, d=3")


def rand_matrix_like(ctx, rng, d):
    return [[ctx.mpf(rng.gauss(0, 1)) for _ in range(d)] for _ in range(d)]


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("row_shift", "matrix_hvp"),
              sizes=((3, 2),), shows=(5, 7), premises=(1,))
