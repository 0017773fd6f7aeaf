r"""Lemma h_lipschitz_logits (h on a box): ‖h(s) − h(s′)‖ ≤ ‖s − s′‖*(sqrt(n)*‖b‖ + 1)*exp(M) if norm_inf(s) ≤ M

Statement
    For the rescaled residual h(s) = exp(s) − α(s) b (b fixed) and s, s′ in the box ||·||_∞ ≤ M:
        ||h(s) − h(s′)||₂ ≤ (1 + √n ||b||₂) e^M ||s − s′||₂.

Check
    Side identity by sympy at n = 3; numeric: 60-digit reference h (attnreg.reference.forms.vector_blocks,
    A = I) at random pairs in the box, n = 8, ||b|| ≤ 1.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Goal, Lemma, Step, by, cite
from ._forms import parts
from ._numeric import norm2, rand_vector, with_norm, within
from ._ops import SYM
from .alpha_lipschitz_logits import DALPHA, LEMMA as ALPHA
from .exp_lipschitz_box import BOX, DU, LEMMA as EXPBOX
from .symbols import M, ds, n, norm_b, quantity, vector

DH = quantity("‖h(s) − h(s′)‖", r"\|h(s)-h(s')\|")


def steps(n_, d):
    s, s2, b = vector("s", n_), vector("r", n_), vector("b", n_)
    p, q = parts(SYM, s, b), parts(SYM, s2, b)
    side = Step("h(s) − h(s′) = (u(s) − u(s′)) − (α(s) − α(s′)) b", "h = u − α b", p.h - q.h,
                (p.u - q.u) - (p.alpha - q.alpha) * b)
    return [
        by("triangle", DH, "<=", DU + DALPHA * norm_b, "and ‖t b‖ = |t| ‖b‖", side=(side,)),
        cite(EXPBOX, {}, "s and s′ lie in the box"),
        cite(ALPHA, {}, "s and s′ lie in the box"),
    ]


def numeric(ctx, rng):
    nv, ratios = 8, []
    eye = [[ctx.one if i == j else ctx.zero for j in range(nv)] for i in range(nv)]
    for _ in range(12):
        Mv, b = ctx.mpf(rng.uniform(0.2, 3)), with_norm(ctx, rand_vector(ctx, rng, nv), ctx.mpf(rng.uniform(0.2, 1)),
                                                        norm2)
        h = lambda s: forms.vector_blocks(ctx, eye, s, b)["h"]  # noqa: E731
        s = [Mv * ctx.mpf(rng.uniform(-1, 1)) for _ in range(nv)]
        s2 = [min(Mv, max(-Mv, v + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 4))))) for v in s]
        C = (1 + ctx.sqrt(nv) * norm2(ctx, b)) * ctx.exp(Mv)
        ratios.append(norm2(ctx,
                            [x - y for x, y in zip(h(s), h(s2))]) / (C * norm2(ctx, [x - y for x, y in zip(s, s2)])))
    return within(ctx, ratios, "reference h at random pairs in the box, n=8, ||b|| in [0.2, 1]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("exp_lipschitz_box", "alpha_lipschitz_logits"),
              goal=Goal(DH, "<=", (1 + sp.sqrt(n) * norm_b) * sp.exp(M) * ds), assume=(BOX,))
