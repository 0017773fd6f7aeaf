r"""Lemma matrix_u_lipschitz_A1 (matrix U is Lipschitz in A1): ||U(A1) − U(A1′)||_F ≤ R² e^{R²} ||A1 − A1′||₂.

Statement
    With A2, X fixed and A1, A1′ both admissible — ||A1 ⊗ A2||, ||A1′ ⊗ A2|| ≤ R, ||A2|| ≤ R, ||X||_F ≤ R —
    U = exp(A1 X A2ᵀ) satisfies ||U(A1) − U(A1′)||_F ≤ R² e^{R²} ||A1 − A1′||₂.

Derivation
    1. Every row of S and S′ lies in the box ||·||_∞ ≤ R² (Lemma matrix_logit_box, for A1 and for A1′);
       row by row ||exp(s_j) − exp(s′_j)|| ≤ e^{R²} ||s_j − s′_j|| (Lemma exp_lipschitz_box), stacked  [stacked_rows]
    2. ||S − S′||_F = ||(A1 − A1′) X A2ᵀ||_F ≤ ||A1 − A1′||₂ ||X A2ᵀ||_F                 [submultiplicative]
    3. ||X A2ᵀ||_F ≤ ||X||_F ||A2||₂                                                     [submultiplicative]
    4. ||X||_F ≤ R, ||A2|| ≤ R                                                            [assumption]
    Composed: R² e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself through
    attnreg.reference.forms.matrix_blocks at 60 digits (n = 4, d = 3) at random admissible pairs (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._chains import NXA2
from .exp_lipschitz_box import BOX, DU, LEMMA as LOGIT
from .symbols import dA1, dS, ds, M, matrix, N2, norm_X, quantity, R

DQ = quantity("‖U(A1) − U(A1′)‖_F", r"\|U(A_1)-U(A_1')\|_F")
BOUND = Bound(quantity="u", form="matrix", kind="lipschitz", wrt="A1", wrt_norm="spectral",
              value=R ** 2 * sp.exp(R ** 2),
              assume=("norm(kron(A1,A2)) <= R", "norm(A2) <= R", "norm(X) <= R"), lemma="matrix_u_lipschitz_A1")


def steps(n, d):
    A1, B1, A2, X = matrix("A1", n, d), matrix("B1", n, d), matrix("A2", n, d), matrix("X", d, d)
    side = Step("A1 X A2ᵀ − A1′ X A2ᵀ = (A1 − A1′) X A2ᵀ", "linearity", A1 * X * A2.T - B1 * X * A2.T,
                (A1 - B1) * X * A2.T)
    return [
        cite(LOGIT, {DU: DQ, ds: dS, M: R ** 2}, "per row, in the box of radius R²; one constant for all rows",
             rule="stacked_rows", discharge={BOX: "matrix_logit_box"}),
        by("submultiplicative", dS, "<=", dA1 * NXA2, "‖M N‖_F ≤ ‖M‖₂ ‖N‖_F", side=(side,)),
        by("submultiplicative", NXA2, "<=", norm_X * N2, "‖X A2ᵀ‖_F ≤ ‖X‖_F ‖A2ᵀ‖₂"),
        given(norm_X, "<=", R, "norm(X) <= R"),
        given(N2, "<=", R, "norm(A2) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("exp_lipschitz_box", "matrix_logit_box"),
              goal=Goal.of(BOUND, DQ, dA1), bound=BOUND)
