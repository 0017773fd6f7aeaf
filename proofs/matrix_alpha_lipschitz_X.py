r"""Lemma matrix_alpha_lipschitz_X (matrix α is Lipschitz in X): ||α(X) − α(Y)||₂ ≤ √n R e^{R²} ||X − Y||_F.

Statement
    For the row-wise matrix quantity α (row j computed from the logits s_j = (A1 X A2ᵀ)[j, :]ᵀ),
    stacked n × n (α: the n-vector of row sums), and all admissible X, Y (||A1 ⊗ A2|| ≤ R and ||X||_F, ||Y||_F ≤ R):
        ||α(X) − α(Y)||₂ ≤ √n R e^{R²} ||X − Y||_F.
    This is the per-row constant, not n (or √n) times it: the rows are stacked, not summed.

Derivation
    1. Row by row (s_j = A_[j] x, s′_j = A_[j] y): |α(s) − α(s′)| ≤ √n e^M ||s − s′|| on the box (Lemma
       alpha_lipschitz_logits), M = R² (Lemma matrix_logit_box); one constant for every row, so the stacked
       rows give the same constant for the Frobenius norm (block-diagonal: max_j, not Σ_j)   [stacked_rows]
    2. ||S(X) − S(Y)||_F = ||(A1 ⊗ A2) vec(X − Y)|| (Lemma tensor_trick) ≤ ||A1 ⊗ A2|| ||X − Y||_F   [identity,
       submultiplicative]
    3. ||A1 ⊗ A2|| ≤ R   [assumption]
    Composed: √n R e^{R²}.

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
from .alpha_lipschitz_logits import DALPHA, LEMMA as LOGIT
from .symbols import dS, ds, dX, KRON, M, n, quantity, R

DQ = quantity("‖α(X) − α(Y)‖₂", r"\|\alpha(X)-\alpha(Y)\|_2")
BOUND = Bound(quantity="alpha", form="matrix", kind="lipschitz", wrt="X", value=sp.sqrt(n) * R * sp.exp(R ** 2),
              assume=("norm(kron(A1,A2)) <= R", "norm(X) <= R"), lemma="matrix_alpha_lipschitz_X")


def steps(n_, d):
    return [
        cite(LOGIT, {DALPHA: DQ, ds: dS, M: R ** 2}, "per row s_j = A_[j] x, s′_j = A_[j] y; one constant for all rows",
             rule="stacked_rows", discharge={BOX: "matrix_logit_box"}),
        *logits_in_X(n_, d),
        given(KRON, "<=", R, "norm(kron(A1,A2)) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("alpha_lipschitz_logits", "tensor_trick", "matrix_logit_box"),
              goal=Goal.of(BOUND, DQ, dX), bound=BOUND)
