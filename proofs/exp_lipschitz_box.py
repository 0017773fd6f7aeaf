r"""Lemma exp_lipschitz_box (exp on a box): ‖exp(s) − exp(s′)‖ ≤ ‖s − s′‖*exp(M) if norm_inf(s) ≤ M

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


def box_route(ctx, rng, key: str, pair, lip, what: str):
    """The largest ratio ``‖q(s) − q(s′)‖₂ / (lip(M) ‖s − s′‖₂)`` over 12 pairs ``(s, s′) = pair(k, M)`` in the box
    ``‖·‖_∞ ≤ M`` (M drawn in [0.2, 3]), with ``q`` the 60-digit reference block ``key`` (u, alpha) of the data
    A = I, n = 8; a ratio above 1 refutes the lemma."""
    n, ratios = 8, []
    eye = [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(n)]
    q = lambda s: forms.vector_blocks(ctx, eye, s)[key]  # noqa: E731
    for k in range(12):
        Mv = ctx.mpf(rng.uniform(0.2, 3))
        s, s2 = pair(k, Mv, n)
        a, b = q(s), q(s2)
        moved = abs(a - b) if key == "alpha" else norm2(ctx, [x - y for x, y in zip(a, b)])
        ratios.append(moved / (lip(Mv) * norm2(ctx, [x - y for x, y in zip(s, s2)])))
    return within(ctx, ratios, what)


def numeric(ctx, rng):
    def pair(k, Mv, n):
        s = [Mv * ctx.mpf(rng.uniform(-1, 1)) for _ in range(n)]
        return s, [min(Mv, max(-Mv, a + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 4))))) for a in s]
    return box_route(ctx, rng, "u", pair, ctx.exp,
                     "reference exp(s) at random pairs in the box ||s||_∞ ≤ M, n=8, M in [0.2, 3]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("u_deriv",), goal=Goal(DU, "<=", sp.exp(M) * ds),
              assume=(BOX,))
