r"""Lemma matrix_grad_lipschitz_normalized (normalized matrix gradient is Lipschitz): Lip ≤ 3.25 R², not n times.

Statement
    For L_N(X) = ½ ||D(X)⁻¹ exp(A1 X A2ᵀ) − B||_F², if ||A1 ⊗ A2||₂ = ||A1|| ||A2|| ≤ R and every row of B
    has ||b_j||₂ ≤ 1, then for all X, Y (no ball, no n, no exp):
        ||∇L_N(X) − ∇L_N(Y)||_F ≤ (13/4) R² ||X − Y||_F.
    The constant is the vector one, not n times it: vec ∇L_N = Aᵀ G(Ax) with G block-diagonal in the rows
    (one block g(s_j) per row), so Lip(G) = max_j Lip(g_j). Summing the per-row bounds would instead give
    3.25 Σ_j ||A_[j]||² = 3.25 ||A1||_F² ||A2||² (up to rank(A1) times larger). With ||A1||, ||A2|| ≤ R
    separately, ||A1 ⊗ A2|| ≤ R² (Lemma kron_norm) and the constant is 3.25 R⁴.

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
from .normalized_grad_lipschitz_logits import LEMMA as LOGIT, Q as LQ
from .symbols import dS, ds, dX, KRON, matrix, norm_b, norm_brows, quantity, R

DGRAD = quantity("‖∇L_N(X) − ∇L_N(Y)‖_F", r"\|\nabla L_N(X)-\nabla L_N(Y)\|_F")
DP = quantity("‖P(X) − P(Y)‖_F", r"\|P(X)-P(Y)\|_F")
BOUND = Bound(quantity="grad", form="matrix", kind="lipschitz", wrt="X", value=sp.Rational(13, 4) * R ** 2,
              version="normalized", assume=("norm(kron(A1,A2)) <= R", "norm(b) <= 1"),
              lemma="matrix_grad_lipschitz_normalized")


def steps(n, d):
    A1, A2, P, Q = matrix("A1", n, d), matrix("A2", n, d), matrix("P", n, n), matrix("Q", n, n)
    side = Step("vec(A1ᵀ (P − P′) A2) = (A1 ⊗ A2)ᵀ vec(P − P′)", "Lemma kron_blocks (adjoint form), P, P′ free symbols",
                vec(A1.T * (P - Q) * A2, SYM), SYM.kron(A1, A2).T * vec(P - Q, SYM), uses=("kron_blocks",))
    return [
        by("submultiplicative", DGRAD, "<=", KRON * DP, "∇L_N = A1ᵀ P A2 (Lemma matrix_grad_normalized) and "
           "‖Aᵀw‖ ≤ ‖A‖ ‖w‖", side=(side,), uses=("matrix_grad_normalized", "kron_blocks")),
        cite(LOGIT, {LQ["DG"]: DP, ds: dS, norm_b: norm_brows}, "row j of P is g(s_j) with target b_j; the constant "
             "increases with ‖b_j‖, so max_j ‖b_j‖ serves every row", rule="stacked_rows"),
        given(norm_brows, "<=", 1, "norm(b) <= 1", "hypothesis norm(b) <= 1 for every row"),
        *logits_in_X(n, d),
        given(KRON, "<=", R, "norm(kron(A1,A2)) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps,
              requires=("matrix_grad_normalized", "kron_blocks", "normalized_grad_lipschitz_logits", "tensor_trick"),
              goal=Goal.of(BOUND, DGRAD, dX), bound=BOUND)
