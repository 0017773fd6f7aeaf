r"""Lemma grad_lipschitz_normalized_A (normalized gradient in the data): ‖∇L_N(A) − ∇L_N(A′)‖ ≤ ‖A − A′‖*(13*R^2/4 + 1)
if norm(A) ≤ R, norm(x) ≤ R, norm(b) ≤ 1

Statement
    With x fixed (||x||₂ ≤ R), ||b||₂ ≤ 1, and all A, A′ with ||A||₂, ||A′||₂ ≤ R, the gradient in x of
    L_N = ½ ||f(Ax) − b||² satisfies  ||∇_x L_N(A) − ∇_x L_N(A′)||₂ ≤ (1 + (13/4) R²) ||A − A′||₂.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself through
    attnreg.reference.measure at 60 digits (n = 6, d = 4) at random admissible pairs
    (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._chains import DSA, logits_in_A
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from .normalized_grad_lipschitz_logits import LEMMA as LOGIT, Q as LQ
from .softmax_jacobian_half import LEMMA as JACOBIAN, NJ
from .softmax_lipschitz_logits import SUPJ
from .symbols import R, dA, ds, matrix, norm_Ap, norm_b, norm_x, quantity, vector

DGA = quantity("‖∇L_N(A) − ∇L_N(A′)‖", r"\|\nabla L_N(A)-\nabla L_N(A')\|")
T1 = quantity("‖(A − A′)ᵀ g(Ax)‖", r"\|(A-A')^\top g(Ax)\|")
T2 = quantity("‖A′ᵀ(g(Ax) − g(A′x))‖", r"\|A'^\top(g(Ax)-g(A'x))\|")
NG, DGS = quantity("‖g(Ax)‖", r"\|g(Ax)\|"), quantity("‖g(Ax) − g(A′x)‖", r"\|g(Ax)-g(A'x)\|")
NAP, NC, NF = norm_Ap, quantity("‖c(Ax)‖", r"\|c(Ax)\|"), quantity("‖f(Ax)‖", r"\|f(Ax)\|")
BOUND = Bound(quantity="grad", form="vector", kind="lipschitz", wrt="A", value=1 + sp.Rational(13, 4) * R ** 2,
              version="normalized", assume=("norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"),
              lemma="grad_lipschitz_normalized_A")


def steps(n, d):
    A, B, g1, g2 = matrix("A", n, d), matrix("Ap", n, d), vector("g", n), vector("k", n)
    split = Step("Aᵀg − A′ᵀg′ = (A − A′)ᵀ g + A′ᵀ (g − g′)", "add and subtract A′ᵀg (g, g′ free symbols)",
                 A.T * g1 - B.T * g2, (A - B).T * g1 + B.T * (g1 - g2))
    return [
        by("triangle", DGA, "<=", T1 + T2, "∇_x L_N(A) = Aᵀ g(Ax) (Lemma grad_normalized)", side=(split,),
           uses=("grad_normalized",)),
        by("submultiplicative", T1, "<=", dA * NG, "‖Mᵀ g‖ ≤ ‖M‖ ‖g‖"),
        by("submultiplicative", T2, "<=", NAP * DGS, "‖A′ᵀ w‖ ≤ ‖A′‖ ‖w‖"),
        cite(LOGIT, {LQ["DG"]: DGS, ds: DSA}, "s = Ax, s′ = A′x; no box needed"),
        *logits_in_A(n, d),
        by("submultiplicative", NG, "<=", SUPJ * NC, "g = J c (Lemma grad_normalized)"),
        cite(JACOBIAN, {NJ: SUPJ}, "f(Ax) is a probability vector"),
        by("triangle", NC, "<=", NF + norm_b, "c = f − b"),
        by("probability", NF, "<=", 1, "f(Ax) is a probability vector"),
        given(norm_b, "<=", 1, "norm(b) <= 1"),
        given(NAP, "<=", R, "norm(A) <= R", "hypothesis norm(A) <= R, for A′"),
        given(norm_x, "<=", R, "norm(x) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps,
              requires=("grad_normalized", "normalized_grad_lipschitz_logits", "softmax_jacobian_half"),
              goal=Goal.of(BOUND, DGA, dA), bound=BOUND)
