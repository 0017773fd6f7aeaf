r"""Lemma c_lipschitz_x (c is Lipschitz in x): ||c(x) − c(y)||₂ ≤ (R/2) ||x − y||₂ when ||A|| ≤ R.

Statement
    For the normalized residual c(x) = f(x) − b and all x, y ∈ R^d (no ball needed), if ||A||₂ ≤ R:
        ||c(x) − c(y)||₂ ≤ (R/2) ||x − y||₂.

Derivation
    1. c(x) − c(y) = f(x) − f(y) (b is fixed)                  [identity]
    2. ||f(x) − f(y)|| ≤ (R/2) ||x − y|| (Lemma f_lipschitz_x)   [lemma]
    Composed: R/2.

Check
    The side identity by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points (_sample.bound_ratio).
"""
from __future__ import annotations

from ._core import Bound, Goal, Lemma, Step, by, cite
from ._forms import parts
from ._ops import SYM
from .f_lipschitz_x import DQ as DF, LEMMA as F_LIPSCHITZ
from .symbols import R, dx, matrix, quantity, vector

DC = quantity("‖c(x) − c(y)‖", r"\|c(x)-c(y)\|")
BOUND = Bound(quantity="c", form="vector", kind="lipschitz", wrt="x", value=R / 2, version="normalized",
              assume=("norm(A) <= R",), lemma="c_lipschitz_x")


def steps(n, d):
    A, x, y, b = matrix("A", n, d), vector("x", d), vector("y", d), vector("b", n)
    p, q = parts(SYM, A * x, b), parts(SYM, A * y, b)
    return [
        by("identity", DC, "=", DF, "b does not move",
           side=(Step("c(x) − c(y) = f(x) − f(y)", "c = f − b", p.c - q.c, p.f - q.f),)),
        cite(F_LIPSCHITZ, {}),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("f_lipschitz_x",), goal=Goal.of(BOUND, DC, dx), bound=BOUND)
