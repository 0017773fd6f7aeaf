r"""Lemma alpha_lower (lower bound on α): α(x) ≥ n e^{−R²} when ||A|| ≤ R and ||x|| ≤ R.

Statement
    If ||A||₂ ≤ R and ||x||₂ ≤ R then α(x) = ⟨exp(Ax), 1ₙ⟩ ≥ n e^{−R²} (a bound e^{−R²} without the n
    is valid but loose by n).

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, by, cite
from .symbols import R, n, quantity
from .logit_box import INF, LEMMA as BOX

AL, UMIN = quantity("α(x)", r"\alpha(x)"), quantity("min_i u_i(x)", r"\min_i u_i(x)")
BOUND = Bound(quantity="alpha", form="vector", kind="lower", value=n * sp.exp(-R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="alpha_lower")


def steps(n_, d):
    return [
        by("sum_of_terms", AL, ">=", n * UMIN, "α = Σ_i u_i"),
        by("exp_monotone", UMIN, ">=", sp.exp(-INF), "(Ax)_i ≥ −‖Ax‖_∞"),
        cite(BOX, {}),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("logit_box",),
              goal=Goal.of(BOUND, AL), bound=BOUND)
