r"""Lemma c_lipschitz_A (c is Lipschitz in the data A): ||c(A) − c(A′)||₂ ≤ (R/2) ||A − A′||₂ when ||x|| ≤ R.

Statement
    For the normalized residual c = f − b, x fixed with ||x||₂ ≤ R, and all A, A′ ∈ R^{n×d} (spectral norm):
        ||c(A) − c(A′)||₂ ≤ (R/2) ||A − A′||₂.

Derivation
    1. c(A) − c(A′) = f(A) − f(A′) (b is fixed)                [identity]
    2. ||f(A) − f(A′)|| ≤ (R/2) ||A − A′|| (Lemma f_lipschitz_A) [lemma]
    Composed: R/2.

Check
    The side identity by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points (_sample.bound_ratio).
"""
from __future__ import annotations

from ._core import Bound, Goal, Lemma, Step, by, cite
from ._forms import parts
from ._ops import SYM
from .f_lipschitz_A import DQ as DF, LEMMA as F_LIPSCHITZ
from .symbols import R, dA, matrix, quantity, vector

DC = quantity("‖c(A) − c(A′)‖", r"\|c(A)-c(A')\|")
BOUND = Bound(quantity="c", form="vector", kind="lipschitz", wrt="A", value=R / 2, version="normalized",
              assume=("norm(x) <= R",), lemma="c_lipschitz_A")


def steps(n, d):
    A, A2, x, b = matrix("A", n, d), matrix("Ap", n, d), vector("x", d), vector("b", n)
    p, q = parts(SYM, A * x, b), parts(SYM, A2 * x, b)
    return [
        by("identity", DC, "=", DF, "b does not move",
           side=(Step("c(A) − c(A′) = f(A) − f(A′)", "c = f − b", p.c - q.c, p.f - q.f),)),
        cite(F_LIPSCHITZ, {}),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("f_lipschitz_A",), goal=Goal.of(BOUND, DC, dA), bound=BOUND)
