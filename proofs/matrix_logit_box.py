r"""Lemma matrix_logit_box (matrix logits stay in a box): max_j ‖A_[j] x‖_∞ ≤ R^2 if norm(kron(A1,A2)) ≤ R, norm(X) ≤ R

Statement
    With A = A1 ⊗ A2 and x = vec(X): if ||A||₂ = ||A1|| ||A2|| ≤ R and ||X||_F ≤ R then every row
    s_j = A_[j] x of S = A1 X A2ᵀ has ||s_j||_∞ ≤ R², for every j. (If only ||A1||, ||A2|| ≤ R are known,
    then ||A|| ≤ R² (Lemma kron_norm) and the box becomes R³: every e^{R²} below turns into e^{R³}.)

Check
    Side identities by sympy at n = 3, d = 2; numeric: random A1, A2, X within the hypotheses at 60 digits
    (n = 4, d = 3); the largest ratio max_jm |S_jm| / R² is reported.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Goal, Lemma, Step, by, given
from ._numeric import matrix_point, norm2, spectral, within
from ._ops import SYM, vec
from .symbols import KRON, logit_inf_rows, matrix, norm_X, norm_x, quantity, R

INFJ = logit_inf_rows
TWOJ = quantity("max_j ‖A_[j] x‖₂", r"\max_j\|A_{[j]}x\|_2")
NAJ = quantity("max_j ‖A_[j]‖", r"\max_j\|A_{[j]}\|")
ASSUME = ("norm(kron(A1,A2)) <= R", "norm(X) <= R")


def steps(n, d):
    A1, A2, X = matrix("A1", n, d), matrix("A2", n, d), matrix("X", d, d)
    A = SYM.kron(A1, A2)
    block = Step("rows j·n … j·n + n − 1 of A1 ⊗ A2 are A1[j,:] ⊗ A2", "Lemma kron_blocks",
                 sp.Matrix.vstack(*[A[j * n:(j + 1) * n, :] for j in range(n)]),
                 sp.Matrix.vstack(*[SYM.kron(A1[j, :], A2) for j in range(n)]), uses=("kron_blocks",))
    frob = Step("‖vec(X)‖₂² = ‖X‖_F²", "Lemma tensor_trick", (vec(X, SYM).T * vec(X, SYM))[0, 0], (X.T * X).trace(),
                uses=("tensor_trick",))
    return [
        by("norm_comparison", INFJ, "<=", TWOJ, "‖v‖_∞ ≤ ‖v‖₂"),
        by("submultiplicative", TWOJ, "<=", NAJ * norm_x, "‖A_[j] x‖ ≤ ‖A_[j]‖ ‖x‖"),
        by("row_block", NAJ, "<=", KRON, "A_[j] is a block of rows of A1 ⊗ A2", side=(block,), uses=("kron_blocks",)),
        by("identity", norm_x, "=", norm_X, "x = vec(X)", side=(frob,), uses=("tensor_trick",)),
        given(KRON, "<=", R, ASSUME[0]),
        given(norm_X, "<=", R, ASSUME[1]),
    ]


def numeric(ctx, rng):
    ratios = []
    for _ in range(10):
        ops, A1, A2, B, X = matrix_point(ctx, rng)
        Rv = ctx.mpf(rng.uniform(0.3, 2))
        A1 = A1 * (ctx.sqrt(Rv) / spectral(ctx, A1.tolist()))
        A2 = A2 * (ctx.sqrt(Rv) / spectral(ctx, A2.tolist()))
        X = X * (Rv / norm2(ctx, X.tolist()))
        S = forms.logits(ctx, A1.tolist(), A2.tolist(), X.tolist())
        ratios.append(max(abs(v) for row in S for v in row) / Rv ** 2)
    return within(ctx, ratios, "max |A1 X A2ᵀ| / R² with ||A1 ⊗ A2|| = ||X||_F = R, n=4, d=3")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("kron_blocks", "tensor_trick"),
              goal=Goal(INFJ, "<=", R ** 2), assume=ASSUME)
