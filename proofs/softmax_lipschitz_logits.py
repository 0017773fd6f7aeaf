r"""Lemma softmax_lipschitz_logits (softmax is Lipschitz in the logits): ‖f(s) − f(s′)‖ ≤ ‖s − s′‖/2

Statement
    For all s, s′ ∈ Rⁿ (no bound on the logits, no n, no exp): ||f(s) − f(s′)||₂ ≤ ½ ||s − s′||₂.
    The ½ is attained in the limit (s = (ε, −ε, −∞, …) as ε → 0).

Check
    The chain by sympy; numeric: 60-digit reference softmax (attnreg.reference.forms.vector_blocks, A = I) at
    random pairs (n = 8), and near the extremal direction; the largest ratio to ½||s − s′|| is reported.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Goal, Lemma, by, cite
from ._numeric import norm2, rand_vector, within
from .softmax_jacobian_half import LEMMA as JACOBIAN, NJ
from .symbols import ds, quantity

DF = quantity("‖f(s) − f(s′)‖", r"\|f(s)-f(s')\|")
SUPJ = quantity("sup_z ‖J(z)‖", r"\sup_z\|J(z)\|")


def steps(n, d):
    return [
        by("mean_value", DF, "<=", SUPJ * ds, "f is C¹ on Rⁿ with Df(z) = J(z) (Lemma f_deriv, logit form)",
           uses=("f_deriv",)),
        cite(JACOBIAN, {NJ: SUPJ}, "f(z) is a probability vector for every z"),
    ]


def numeric(ctx, rng):
    n, ratios = 8, []
    eye = [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(n)]
    f = lambda s: forms.vector_blocks(ctx, eye, s)["f"]  # noqa: E731
    for k in range(12):
        s = rand_vector(ctx, rng, n, 2) if k < 9 else [ctx.zero, ctx.zero] + [ctx.mpf(-60)] * (n - 2)
        tight = [ctx.mpf(1e-8), ctx.mpf(-1e-8)] + [0] * (n - 2)  # along (1, −1, 0, …) at f ≈ (½, ½, 0, …)
        step = rand_vector(ctx, rng, n, 10 ** -rng.randint(0, 5)) if k < 9 else tight
        s2 = [a + b for a, b in zip(s, step)]
        ratios.append(norm2(ctx, [a - b for a, b in zip(f(s), f(s2))]) / (norm2(ctx, step) / 2))
    return within(ctx, ratios, "reference softmax at random pairs and along (1, −1, 0, …) near (0, 0, −60, …), n=8")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("f_deriv", "softmax_jacobian_half"),
              goal=Goal(DF, "<=", sp.Rational(1, 2) * ds), )
