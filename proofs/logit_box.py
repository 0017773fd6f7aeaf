r"""Lemma logit_box (the logits stay in a box): ‖Ax‖_∞ ≤ R^2 if norm(A) ≤ R, norm(x) ≤ R

Statement
    If ||A||₂ ≤ R and ||x||₂ ≤ R then every logit satisfies |(Ax)_i| ≤ R², i.e. ||Ax||_∞ ≤ R². The ball
    ||x|| ≤ R is convex, so the whole segment between two admissible points stays in the box; the same
    holds for A and A′ with ||A||, ||A′|| ≤ R at a fixed x. (If instead ||A|| ≤ R only bounds the factors
    of A = A1 ⊗ A2 separately, the logits are bounded by R³; see matrix_logit_box.)

Check
    The chain by sympy; numeric: attnreg.reference.forms.matvec at random A, x scaled to the hypotheses, 60
    digits (n = 6, d = 4); the largest ratio ||Ax||_∞ / R² is reported.
"""
from __future__ import annotations

from attnreg.reference import forms

from ._core import Goal, Lemma, by, given
from ._numeric import rand_matrix, rand_vector, spectral, norm2, with_norm, within
from .symbols import R, logit_inf, norm_A, norm_x, quantity

INF = logit_inf
TWO = quantity("‖Ax‖₂", r"\|Ax\|_2")
ASSUME = ("norm(A) <= R", "norm(x) <= R")


def steps(n, d):
    return [
        by("norm_comparison", INF, "<=", TWO, "‖v‖_∞ ≤ ‖v‖₂"),
        by("submultiplicative", TWO, "<=", norm_A * norm_x, "‖Av‖₂ ≤ ‖A‖₂‖v‖₂"),
        given(norm_A, "<=", R, ASSUME[0]),
        given(norm_x, "<=", R, ASSUME[1]),
    ]


def numeric(ctx, rng):
    ratios = []
    for _ in range(12):
        Rv = ctx.mpf(rng.uniform(0.3, 2))
        A = with_norm(ctx, rand_matrix(ctx, rng, 6, 4), Rv * ctx.mpf(rng.uniform(0.5, 1)), spectral)
        x = with_norm(ctx, rand_vector(ctx, rng, 4), Rv * ctx.mpf(rng.uniform(0.5, 1)), norm2)
        ratios.append(max(abs(v) for v in forms.matvec(ctx, A, x)) / Rv ** 2)
    return within(ctx, ratios, "||Ax||_∞ / R² at random A, x within the hypotheses, n=6, d=4")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, goal=Goal(INF, "<=", R ** 2), assume=ASSUME, sizes=((3, 2),))
