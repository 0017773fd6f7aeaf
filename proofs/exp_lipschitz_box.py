r"""Lemma exp_lipschitz_box (exp on a box): ||exp(s) − exp(s′)||₂ ≤ e^M ||s − s′||₂ when ||s||_∞, ||s′||_∞ ≤ M.

Statement
    For s, s′ ∈ Rⁿ with ||s||_∞ ≤ M and ||s′||_∞ ≤ M (u = exp entrywise):
        ||u(s) − u(s′)||₂ ≤ e^M ||s − s′||₂.

Check
    The chain by sympy; numeric: 60-digit reference u (attnreg.reference.forms.vector_blocks, A = I) at random
    pairs in the box (n = 8, M in [0.2, 3]); the largest ratio is reported.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Goal, Lemma, by, given
from ._numeric import norm2, within
from .symbols import M, ds, quantity, sup_inf

DU = quantity("‖exp(s) − exp(s′)‖", r"\|e^{s}-e^{s'}\|")
SUPD = quantity("sup_z ‖diag(exp(z))‖", r"\sup_z\|\operatorname{diag}(e^{z})\|")
SUPE = quantity("sup_z max_i exp(z_i)", r"\sup_z\max_i e^{z_i}")
SUPZ = sup_inf
BOX = "norm_inf(s) <= M"


def steps(n, d):
    return [
        by("mean_value", DU, "<=", SUPD * ds, "D exp(z) = diag(exp(z)) (Lemma u_deriv, A = I); the box is convex",
           uses=("u_deriv",)),
        by("hadamard", SUPD, "=", SUPE, "exp(z_i) > 0"),
        by("exp_monotone", SUPE, "<=", sp.exp(SUPZ), "z_i ≤ ‖z‖_∞"),
        given(SUPZ, "<=", M, BOX, "hypothesis norm_inf(s) <= M for s and s′; the segment stays in the convex box"),
    ]


def numeric(ctx, rng):
    n, ratios = 8, []
    eye = [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(n)]
    u = lambda s: forms.vector_blocks(ctx, eye, s)["u"]  # noqa: E731
    for _ in range(12):
        Mv = ctx.mpf(rng.uniform(0.2, 3))
        s = [Mv * ctx.mpf(rng.uniform(-1, 1)) for _ in range(n)]
        s2 = [min(Mv, max(-Mv, a + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 4))))) for a in s]
        ratios.append(norm2(ctx,
                            [a - b for a,
                             b in zip(u(s), u(s2))]) / (ctx.exp(Mv) * norm2(ctx, [a - b for a, b in zip(s, s2)])))
    return within(ctx, ratios, "reference exp(s) at random pairs in the box ||s||_∞ ≤ M, n=8, M in [0.2, 3]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("u_deriv",), goal=Goal(DU, "<=", sp.exp(M) * ds),
              assume=(BOX,), sizes=((3, 1),))
