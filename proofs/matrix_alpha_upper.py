r"""Lemma matrix_alpha_upper (upper bound on every α_j): α_j(X) ≤ n e^{R²} for every row j.

Statement
    The row sums α_j = Σ_m exp((A1 X A2ᵀ)_jm) of the matrix problem satisfy α_j ≤ n e^{R²} for every j,
    if ||A1 ⊗ A2||₂ ≤ R and ||X||_F ≤ R. Each row has its own α_j; D(X) = diag(α_1, …, α_n).

Check
    The chain by sympy; numeric: the Bound itself through attnreg.reference.forms.matrix_blocks at 60 digits
    (n = 4, d = 3) at random admissible points (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, by, cite
from .matrix_logit_box import INFJ, LEMMA as BOX
from .symbols import R, n, quantity

AL, UMAX = quantity("max_j α_j", r"\max_j\alpha_j"), quantity("max_jm u_jm", r"\max_{jm}u_{jm}")
BOUND = Bound(quantity="alpha", form="matrix", kind="upper", value=n * sp.exp(R ** 2),
              assume=("norm(kron(A1,A2)) <= R", "norm(X) <= R"), lemma="matrix_alpha_upper")


def steps(n_, d):
    return [
        by("sum_of_terms", AL, "<=", n * UMAX, "α_j = Σ_m u_jm, n terms"),
        by("exp_monotone", UMAX, "<=", sp.exp(INFJ), "s_jm ≤ ‖s_j‖_∞"),
        cite(BOX, {}),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("matrix_logit_box",), goal=Goal.of(BOUND, AL), bound=BOUND)
