r"""Lemma u_upper (upper bound on u): ‖u(x)‖ ≤ sqrt(n)*exp(R^2) if norm(A) ≤ R, norm(x) ≤ R

Statement
    If ||A||₂ ≤ R and ||x||₂ ≤ R then ||exp(Ax)||₂ ≤ √n e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.measure at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, by, cite
from .symbols import R, n, quantity
from .logit_box import INF, LEMMA as BOX

U2, UMAX = quantity("‖u(x)‖", r"\|u(x)\|"), quantity("max_i u_i(x)", r"\max_i u_i(x)")
BOUND = Bound(quantity="u", form="vector", kind="upper", value=sp.sqrt(n) * sp.exp(R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="u_upper")


def steps(n_, d):
    return [
        by("norm_comparison", U2, "<=", sp.sqrt(n) * UMAX, "‖u‖₂ ≤ √n ‖u‖_∞, u > 0"),
        by("exp_monotone", UMAX, "<=", sp.exp(INF), "(Ax)_i ≤ ‖Ax‖_∞"),
        cite(BOX, {}),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("logit_box",),
              goal=Goal.of(BOUND, U2), bound=BOUND)
