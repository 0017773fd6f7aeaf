r"""Chain fragments shared by the bound lemmas: how far the logits move.

* in x (A fixed):  ||Ax − Ay|| = ||A(x − y)|| ≤ ||A|| ||x − y||;
* in A (x fixed):  ||Ax − A′x|| = ||(A − A′)x|| ≤ ||A − A′|| ||x||;
* matrix form:     ||S(X) − S(Y)||_F = ||A(x − y)||₂ ≤ ||A1 ⊗ A2|| ||X − Y||_F (Lemma tensor_trick);
* in A1 (A2, X fixed): ||(A1 − A1′) X A2ᵀ||_F ≤ ||A1 − A1′||₂ ||X A2ᵀ||_F ≤ ||A1 − A1′||₂ ||X||_F ||A2||₂;
* in A2 (A1, X fixed): ||A1 X (A2 − A2′)ᵀ||_F ≤ ||A1||₂ ||X (A2 − A2′)ᵀ||_F ≤ ||A1||₂ ||X||_F ||A2 − A2′||₂.
Each returns estimates whose side identities sympy checks at the lemma's size.
"""
from __future__ import annotations

from ._core import Step, by
from ._ops import SYM, vec
from .symbols import dA, dA1, dA2, dS, dX, dx, KRON, matrix, N1, N2, norm_A, norm_X, norm_x, quantity, vector

DSX = quantity("‖Ax − Ay‖", r"\|Ax-Ay\|")
DSA = quantity("‖Ax − A′x‖", r"\|Ax-A'x\|")
DAX = quantity("‖A(x − y)‖", r"\|A(x-y)\|")
NXA2 = quantity("‖X A2ᵀ‖_F", r"\|XA_2^\top\|_F")  # the lemmas in A1: ‖(A1 − A1′) X A2ᵀ‖_F ≤ ‖A1 − A1′‖ ‖X A2ᵀ‖_F
NXD = quantity("‖X (A2 − A2′)ᵀ‖_F", r"\|X(A_2-A_2')^\top\|_F")  # the lemmas in A2


def logits_in_x(n, d):
    A, x, y = matrix("A", n, d), vector("x", d), vector("y", d)
    return [by("submultiplicative", DSX, "<=", norm_A * dx, "‖Av‖ ≤ ‖A‖ ‖v‖",
               side=(Step("Ax − Ay = A(x − y)", "linearity", A * x - A * y, A * (x - y)),))]


def logits_in_A(n, d):
    A, B, x = matrix("A", n, d), matrix("Ap", n, d), vector("x", d)
    return [by("submultiplicative", DSA, "<=", dA * norm_x, "‖Mx‖ ≤ ‖M‖ ‖x‖",
               side=(Step("Ax − A′x = (A − A′)x", "linearity", A * x - B * x, (A - B) * x),))]


def logits_in_X(n, d):
    """``||S(X) − S(Y)||_F ≤ ||A1 ⊗ A2|| ||X − Y||_F``."""
    A1, A2, X, Y = matrix("A1", n, d), matrix("A2", n, d), matrix("X", d, d), matrix("Y", d, d)
    side = Step("vec(S(X) − S(Y)) = (A1 ⊗ A2) vec(X − Y)", "Lemma tensor_trick",
                vec(A1 * X * A2.T - A1 * Y * A2.T, SYM), SYM.kron(A1, A2) * vec(X - Y, SYM), uses=("tensor_trick",))
    return [by("identity", dS, "=", DAX, "‖M‖_F = ‖vec(M)‖₂ (Lemma tensor_trick)", side=(side,),
               uses=("tensor_trick",)),
            by("submultiplicative", DAX, "<=", KRON * dX,
               "‖Av‖ ≤ ‖A‖ ‖v‖ with A = A1 ⊗ A2 and ‖vec(X − Y)‖₂ = ‖X − Y‖_F")]


def logits_in_A1(n, d):
    """``||S − S′||_F ≤ ||A1 − A1′||₂ ||X||_F ||A2||₂`` for S = A1 X A2ᵀ, S′ = A1′ X A2ᵀ."""
    A1, B1, A2, X = matrix("A1", n, d), matrix("B1", n, d), matrix("A2", n, d), matrix("X", d, d)
    side = Step("A1 X A2ᵀ − A1′ X A2ᵀ = (A1 − A1′) X A2ᵀ", "linearity", A1 * X * A2.T - B1 * X * A2.T,
                (A1 - B1) * X * A2.T)
    return [by("submultiplicative", dS, "<=", dA1 * NXA2, "‖M N‖_F ≤ ‖M‖₂ ‖N‖_F", side=(side,)),
            by("submultiplicative", NXA2, "<=", norm_X * N2, "‖X A2ᵀ‖_F ≤ ‖X‖_F ‖A2ᵀ‖₂")]


def logits_in_A2(n, d):
    """``||S − S′||_F ≤ ||A1||₂ ||X||_F ||A2 − A2′||₂`` for S = A1 X A2ᵀ, S′ = A1 X A2′ᵀ."""
    A1, A2, B2, X = matrix("A1", n, d), matrix("A2", n, d), matrix("B2", n, d), matrix("X", d, d)
    side = Step("A1 X A2ᵀ − A1 X A2′ᵀ = A1 X (A2 − A2′)ᵀ", "linearity", A1 * X * A2.T - A1 * X * B2.T,
                A1 * X * (A2 - B2).T)
    return [by("submultiplicative", dS, "<=", N1 * NXD, "‖M N‖_F ≤ ‖M‖₂ ‖N‖_F", side=(side,)),
            by("submultiplicative", NXD, "<=", norm_X * dA2, "‖X Wᵀ‖_F ≤ ‖X‖_F ‖W‖₂")]
