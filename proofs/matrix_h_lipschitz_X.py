r"""Lemma matrix_h_lipschitz_X (matrix H is Lipschitz in X): ||H(X) − H(Y)||_F ≤ (1 + √n) R e^{R²} ||X − Y||_F.

Statement
    For the row-wise matrix quantity H (row j computed from the logits s_j = (A1 X A2ᵀ)[j, :]ᵀ, target b_j),
    stacked n × n, and all admissible X, Y (||A1 ⊗ A2|| ≤ R and ||X||_F, ||Y||_F ≤ R and every row ||b_j|| ≤ 1):
        ||H(X) − H(Y)||_F ≤ (1 + √n) R e^{R²} ||X − Y||_F.
    This is the per-row constant, not n (or √n) times it: the rows are stacked, not summed.

Derivation
    1. Row by row (s_j = A_[j] x, s′_j = A_[j] y): ||h(s) − h(s′)|| ≤ (1 + √n||b_j||) e^M ||s − s′|| on the box
       (Lemma h_lipschitz_logits), M = R² (Lemma matrix_logit_box); one constant for every row, so the stacked
       rows give the same constant for the Frobenius norm (block-diagonal: max_j, not Σ_j)   [stacked_rows]
    2. The constant increases with ||b_j||, and max_j ||b_j|| ≤ 1   [assumption]
    3. ||S(X) − S(Y)||_F = ||(A1 ⊗ A2) vec(X − Y)|| (Lemma tensor_trick) ≤ ||A1 ⊗ A2|| ||X − Y||_F   [identity,
       submultiplicative]
    4. ||A1 ⊗ A2|| ≤ R   [assumption]
    Composed: (1 + √n) R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 4, d = 3) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._chains import logits_in_X
from ._core import Bound, Goal, Lemma, cite, given
from .exp_lipschitz_box import BOX
from .h_lipschitz_logits import DH, LEMMA as LOGIT
from .symbols import dS, ds, dX, KRON, M, n, norm_b, norm_brows, quantity, R

DQ = quantity("‖H(X) − H(Y)‖_F", r"\|H(X)-H(Y)\|_F")
BOUND = Bound(quantity="h", form="matrix", kind="lipschitz", wrt="X", value=(1 + sp.sqrt(n)) * R * sp.exp(R ** 2),
              version="rescaled",
              assume=("norm(kron(A1,A2)) <= R", "norm(X) <= R", "norm(b) <= 1"), lemma="matrix_h_lipschitz_X")


def steps(n_, d):
    return [
        cite(LOGIT, {DH: DQ, ds: dS, M: R ** 2, norm_b: norm_brows},
             "per row s_j = A_[j] x, s′_j = A_[j] y; one constant for all rows",
             rule="stacked_rows", discharge={BOX: "matrix_logit_box"}),
        given(norm_brows, "<=", 1, "norm(b) <= 1",
              "hypothesis norm(b) <= 1 for every row; the constant increases with ||b_j||"),
        *logits_in_X(n_, d),
        given(KRON, "<=", R, "norm(kron(A1,A2)) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("h_lipschitz_logits", "tensor_trick", "matrix_logit_box"),
              goal=Goal.of(BOUND, DQ, dX), bound=BOUND)
