r"""Lemma matrix_grad_lipschitz_normalized_factors (normalized matrix gradient, factor norms): ‖∇L_N(X) −
∇L_N(Y)‖_F ≤ 13*R^4*‖X − Y‖_F/4 if norm(A1) ≤ R, norm(A2) ≤ R, norm(b) ≤ 1

Statement
    If only the factors are bounded, ||A1||₂ ≤ R and ||A2||₂ ≤ R (every row ||b_j|| ≤ 1), then for all X, Y:
        ||∇L_N(X) − ∇L_N(Y)||_F ≤ (13/4) R⁴ ||X − Y||_F,
    because ||A1 ⊗ A2|| = ||A1|| ||A2|| ≤ R² (Lemma kron_norm). This is where the hypothesis on the factors,
    instead of on A1 ⊗ A2, changes R² into R⁴ (and, with ||X||_F ≤ R, the logit box R² into R³, so e^{R²}
    into e^{R³} for the exp-type bounds; Lemma matrix_logit_box).

Check
    The chain by sympy; numeric: the Bound itself through attnreg.reference.forms.matrix_loss_and_grad at 60
    digits (n = 4, d = 3) at random admissible pairs (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import INSTANCE, Bound, Goal, Lemma, cite, given
from .kron_norm import LEMMA as KRON_NORM
from .lifts import LEMMAS as LIFTS
from .symbols import KRON, N1, N2, R, dX

MATRIX_GRAD = LIFTS["matrix_grad_lipschitz_normalized"]
DGRAD = MATRIX_GRAD.goal.lhs

BOUND = Bound(quantity="grad", form="matrix", kind="lipschitz", wrt="X", value=sp.Rational(13, 4) * R ** 4,
              version="normalized", assume=("norm(A1) <= R", "norm(A2) <= R", "norm(b) <= 1"),
              lemma="matrix_grad_lipschitz_normalized_factors")


def steps(n, d):
    return [
        cite(MATRIX_GRAD, {R: KRON}, "instantiated at R := ‖A1 ⊗ A2‖ (> 0), which makes its hypothesis "
             "norm(kron(A1,A2)) <= R hold", discharge={"norm(kron(A1,A2)) <= R": INSTANCE}),
        cite(KRON_NORM, {}),
        given(N1, "<=", R, "norm(A1) <= R"),
        given(N2, "<=", R, "norm(A2) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("matrix_grad_lipschitz_normalized", "kron_norm"),
              goal=Goal.of(BOUND, DGRAD, dX), bound=BOUND)
