r"""Lemma matrix_f_lipschitz_X (matrix F is Lipschitz in X): ||F(X) − F(Y)||_F ≤ R/2 ||X − Y||_F when ||A1 ⊗ A2|| ≤ R.

Statement
    For the row-wise matrix quantity F (row j computed from the logits s_j = (A1 X A2ᵀ)[j, :]ᵀ),
    stacked n × n, and all admissible X, Y (||A1 ⊗ A2|| ≤ R):
        ||F(X) − F(Y)||_F ≤ R/2 ||X − Y||_F.
    This is the per-row constant, not n (or √n) times it: the rows are stacked, not summed.

Derivation
    1. Row by row (s_j = A_[j] x, s′_j = A_[j] y): ||f(s) − f(s′)|| ≤ ½ ||s − s′|| for all logits (Lemma
       softmax_lipschitz_logits); one constant for every row, so the stacked
       rows give the same constant for the Frobenius norm (block-diagonal: max_j, not Σ_j)   [stacked_rows]
    2. ||S(X) − S(Y)||_F = ||(A1 ⊗ A2) vec(X − Y)|| (Lemma tensor_trick) ≤ ||A1 ⊗ A2|| ||X − Y||_F   [identity,
       submultiplicative]
    3. ||A1 ⊗ A2|| ≤ R   [assumption]
    Composed: R/2.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 4, d = 3) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

from ._chains import logits_in_X
from ._core import Bound, Goal, Lemma, cite, given
from .softmax_lipschitz_logits import DF, LEMMA as LOGIT
from .symbols import dS, ds, dX, KRON, quantity, R

DQ = quantity("‖F(X) − F(Y)‖_F", r"\|F(X)-F(Y)\|_F")
BOUND = Bound(quantity="f", form="matrix", kind="lipschitz", wrt="X", value=R / 2,
              assume=("norm(kron(A1,A2)) <= R",), lemma="matrix_f_lipschitz_X")


def steps(n_, d):
    return [
        cite(LOGIT, {DF: DQ, ds: dS}, "per row s_j = A_[j] x, s′_j = A_[j] y; one constant for all rows",
             rule="stacked_rows"),
        *logits_in_X(n_, d),
        given(KRON, "<=", R, "norm(kron(A1,A2)) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("softmax_lipschitz_logits", "tensor_trick"),
              goal=Goal.of(BOUND, DQ, dX), bound=BOUND)
