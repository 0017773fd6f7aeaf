r"""Lemma matrix_grad_lipschitz_rescaled (rescaled matrix gradient): Lip ≤ (3n + 3√n + 2) e^{2R²} R².

Statement
    For L_R(X) = ½ ||exp(A1 X A2ᵀ) − D(X) B||_F², if ||A1 ⊗ A2||₂ ≤ R, every row ||b_j||₂ ≤ 1, and
    ||X||_F, ||Y||_F ≤ R:
        ||∇L_R(X) − ∇L_R(Y)||_F ≤ (3n + 3√n + 2) e^{2R²} R² ||X − Y||_F,
    the vector constant (rows are stacked, block-diagonal, not summed).

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself through
    attnreg.reference.forms.matrix_loss_and_grad at 60 digits (n = 4, d = 3) at random admissible pairs
    (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._chains import logits_in_X
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._ops import SYM, vec
from .exp_lipschitz_box import BOX
from .rescaled_grad_lipschitz_logits import LEMMA as LOGIT, Q as LQ
from .symbols import dS, ds, dX, KRON, M, matrix, n, norm_b, norm_brows, quantity, R

DGRAD = quantity("‖∇L_R(X) − ∇L_R(Y)‖_F", r"\|\nabla L_R(X)-\nabla L_R(Y)\|_F")
DP = quantity("‖P_R(X) − P_R(Y)‖_F", r"\|P_R(X)-P_R(Y)\|_F")
BOUND = Bound(quantity="grad", form="matrix", kind="lipschitz", wrt="X",
              value=(3 * n + 3 * sp.sqrt(n) + 2) * sp.exp(2 * R ** 2) * R ** 2, version="rescaled",
              assume=("norm(kron(A1,A2)) <= R", "norm(X) <= R", "norm(b) <= 1"), lemma="matrix_grad_lipschitz_rescaled")


def steps(n_, d):
    A1, A2, P, Q = matrix("A1", n_, d), matrix("A2", n_, d), matrix("P", n_, n_), matrix("Q", n_, n_)
    side = Step("vec(A1ᵀ (P − P′) A2) = (A1 ⊗ A2)ᵀ vec(P − P′)", "Lemma kron_blocks (adjoint form), P, P′ free symbols",
                vec(A1.T * (P - Q) * A2, SYM), SYM.kron(A1, A2).T * vec(P - Q, SYM), uses=("kron_blocks",))
    return [
        by("submultiplicative", DGRAD, "<=", KRON * DP, "∇L_R = A1ᵀ P A2 (Lemma matrix_grad_rescaled) and "
           "‖Aᵀw‖ ≤ ‖A‖ ‖w‖", side=(side,), uses=("matrix_grad_rescaled", "kron_blocks")),
        cite(LOGIT, {LQ["DG"]: DP, ds: dS, M: R ** 2, norm_b: norm_brows},
             "row j of P is G(s_j) with target b_j, s_j in "
             "the box of radius R²; the constant increases with ‖b_j‖, so max_j ‖b_j‖ serves every row",
             rule="stacked_rows", discharge={BOX: "matrix_logit_box"}),
        given(norm_brows, "<=", 1, "norm(b) <= 1", "hypothesis norm(b) <= 1 for every row"),
        *logits_in_X(n_, d),
        given(KRON, "<=", R, "norm(kron(A1,A2)) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps,
              requires=("matrix_grad_rescaled", "kron_blocks", "rescaled_grad_lipschitz_logits", "matrix_logit_box",
                        "tensor_trick"),
              goal=Goal.of(BOUND, DGRAD, dX), bound=BOUND)
