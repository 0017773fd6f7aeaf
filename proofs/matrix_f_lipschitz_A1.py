r"""Lemma matrix_f_lipschitz_A1 (matrix F is Lipschitz in A1): ||F(A1) − F(A1′)||_F ≤ (R²/2) ||A1 − A1′||₂.

Statement
    With A2, X fixed (||A2||₂ ≤ R, ||X||_F ≤ R) and all A1, A1′ ∈ R^{n×d}, F the row softmax of A1 X A2ᵀ:
        ||F(A1) − F(A1′)||_F ≤ (R²/2) ||A1 − A1′||₂.

Derivation
    1. Row by row ||f(s_j) − f(s′_j)|| ≤ ½ ||s_j − s′_j|| (Lemma softmax_lipschitz_logits), one constant for
       every row, stacked: ||F(A1) − F(A1′)||_F ≤ ½ ||S − S′||_F                     [stacked_rows]
    2. S − S′ = (A1 − A1′) X A2ᵀ, so ||S − S′||_F ≤ ||A1 − A1′||₂ ||X A2ᵀ||_F         [submultiplicative]
    3. ||X A2ᵀ||_F ≤ ||X||_F ||A2||₂                                                  [submultiplicative]
    4. ||X||_F ≤ R, ||A2|| ≤ R                                                         [assumption]
    Composed: R²/2.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself through
    attnreg.reference.forms.matrix_blocks at 60 digits (n = 4, d = 3) at random admissible pairs (_sample.bound_ratio).
"""
from __future__ import annotations

from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._chains import NXA2
from .softmax_lipschitz_logits import DF, LEMMA as LOGIT
from .symbols import dA1, dS, ds, matrix, N2, norm_X, quantity, R

DQ = quantity("‖F(A1) − F(A1′)‖_F", r"\|F(A_1)-F(A_1')\|_F")
BOUND = Bound(quantity="f", form="matrix", kind="lipschitz", wrt="A1", wrt_norm="spectral", value=R ** 2 / 2,
              assume=("norm(A2) <= R", "norm(X) <= R"), lemma="matrix_f_lipschitz_A1")


def steps(n, d):
    A1, B1, A2, X = matrix("A1", n, d), matrix("B1", n, d), matrix("A2", n, d), matrix("X", d, d)
    side = Step("A1 X A2ᵀ − A1′ X A2ᵀ = (A1 − A1′) X A2ᵀ", "linearity", A1 * X * A2.T - B1 * X * A2.T,
                (A1 - B1) * X * A2.T)
    return [
        cite(LOGIT, {DF: DQ, ds: dS}, "per row; one constant for all rows", rule="stacked_rows"),
        by("submultiplicative", dS, "<=", dA1 * NXA2, "‖M N‖_F ≤ ‖M‖₂ ‖N‖_F", side=(side,)),
        by("submultiplicative", NXA2, "<=", norm_X * N2, "‖X A2ᵀ‖_F ≤ ‖X‖_F ‖A2ᵀ‖₂"),
        given(norm_X, "<=", R, "norm(X) <= R"),
        given(N2, "<=", R, "norm(A2) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("softmax_lipschitz_logits",),
              goal=Goal.of(BOUND, DQ, dA1), bound=BOUND)
