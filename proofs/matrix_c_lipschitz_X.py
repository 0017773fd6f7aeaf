r"""Lemma matrix_c_lipschitz_X (matrix C is Lipschitz in X): ||C(X) − C(Y)||_F ≤ (R/2) ||X − Y||_F when ||A1 ⊗ A2|| ≤ R.

Statement
    For the normalized matrix residual C(X) = D(X)⁻¹ exp(A1 X A2ᵀ) − B and all X, Y (no ball needed), if
    ||A1 ⊗ A2||₂ ≤ R:  ||C(X) − C(Y)||_F ≤ (R/2) ||X − Y||_F.

Derivation
    1. C(X) − C(Y) = F(X) − F(Y) (B is fixed)                        [identity]
    2. ||F(X) − F(Y)||_F ≤ (R/2) ||X − Y||_F (Lemma matrix_f_lipschitz_X)  [lemma]
    Composed: R/2.

Check
    The side identity by sympy at n = 3, d = 2; numeric: the Bound itself through attnreg.reference.forms at
    60 digits (n = 4, d = 3) at random admissible points (_sample.bound_ratio).
"""
from __future__ import annotations

from ._core import Bound, Goal, Lemma, Step, by, cite
from ._forms import matrix_rows, stack
from ._ops import SYM
from .matrix_f_lipschitz_X import DQ as DF, LEMMA as F_LIPSCHITZ
from .symbols import R, dX, matrix, quantity

DC = quantity("‖C(X) − C(Y)‖_F", r"\|C(X)-C(Y)\|_F")
BOUND = Bound(quantity="c", form="matrix", kind="lipschitz", wrt="X", value=R / 2, version="normalized",
              assume=("norm(kron(A1,A2)) <= R",), lemma="matrix_c_lipschitz_X")


def steps(n, d):
    A1, A2, B, X, Y = (matrix(m, r, c) for m, r,
                       c in (("A1", n, d), ("A2", n, d), ("B", n, n), ("X", d, d), ("Y", d, d)))
    P, Q = matrix_rows(SYM, A1, A2, X, B)[1], matrix_rows(SYM, A1, A2, Y, B)[1]
    side = Step("C(X) − C(Y) = F(X) − F(Y)", "C = F − B", stack(SYM, [r.c for r in P]) - stack(SYM, [r.c for r in Q]),
                stack(SYM, [r.f for r in P]) - stack(SYM, [r.f for r in Q]))
    return [by("identity", DC, "=", DF, "B does not move", side=(side,)), cite(F_LIPSCHITZ, {})]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("matrix_f_lipschitz_X",), goal=Goal.of(BOUND, DC, dX), bound=BOUND)
