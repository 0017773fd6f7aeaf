r"""Lemma matrix_f_lipschitz_A2 (matrix F is Lipschitz in A2): ||F(A2) − F(A2′)||_F ≤ (R²/2) ||A2 − A2′||₂.

Statement
    With A1, X fixed (||A1||₂ ≤ R, ||X||_F ≤ R) and all A2, A2′ ∈ R^{n×d}, F the row softmax of A1 X A2ᵀ:
        ||F(A2) − F(A2′)||_F ≤ (R²/2) ||A2 − A2′||₂.

Derivation
    1. Row by row ||f(s_j) − f(s′_j)|| ≤ ½ ||s_j − s′_j|| (Lemma softmax_lipschitz_logits), stacked:
       ||F(A2) − F(A2′)||_F ≤ ½ ||S − S′||_F                                           [stacked_rows]
    2. S − S′ = A1 X (A2 − A2′)ᵀ, so ||S − S′||_F ≤ ||A1||₂ ||X (A2 − A2′)ᵀ||_F         [submultiplicative]
    3. ||X (A2 − A2′)ᵀ||_F ≤ ||X||_F ||A2 − A2′||₂                                    [submultiplicative]
    4. ||A1|| ≤ R, ||X||_F ≤ R                                                         [assumption]
    Composed: R²/2.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself through
    attnreg.reference.forms.matrix_blocks at 60 digits (n = 4, d = 3) at random admissible pairs (_sample.bound_ratio).
"""
from __future__ import annotations

from ._core import Bound, Goal, Lemma, Step, by, cite, given
from .softmax_lipschitz_logits import DF, LEMMA as LOGIT
from .symbols import dA2, dS, ds, matrix, N1, norm_X, quantity, R

DQ = quantity("‖F(A2) − F(A2′)‖_F", r"\|F(A_2)-F(A_2')\|_F")
NXD = quantity("‖X (A2 − A2′)ᵀ‖_F", r"\|X(A_2-A_2')^\top\|_F")
BOUND = Bound(quantity="f", form="matrix", kind="lipschitz", wrt="A2", wrt_norm="spectral", value=R ** 2 / 2,
              assume=("norm(A1) <= R", "norm(X) <= R"), lemma="matrix_f_lipschitz_A2")


def steps(n, d):
    A1, A2, B2, X = matrix("A1", n, d), matrix("A2", n, d), matrix("B2", n, d), matrix("X", d, d)
    side = Step("A1 X A2ᵀ − A1 X A2′ᵀ = A1 X (A2 − A2′)ᵀ", "linearity", A1 * X * A2.T - A1 * X * B2.T,
                A1 * X * (A2 - B2).T)
    return [
        cite(LOGIT, {DF: DQ, ds: dS}, "per row; one constant for all rows", rule="stacked_rows"),
        by("submultiplicative", dS, "<=", N1 * NXD, "‖M N‖_F ≤ ‖M‖₂ ‖N‖_F", side=(side,)),
        by("submultiplicative", NXD, "<=", norm_X * dA2, "‖X Wᵀ‖_F ≤ ‖X‖_F ‖W‖₂"),
        given(N1, "<=", R, "norm(A1) <= R"),
        given(norm_X, "<=", R, "norm(X) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("softmax_lipschitz_logits",),
              goal=Goal.of(BOUND, DQ, dA2), bound=BOUND)
