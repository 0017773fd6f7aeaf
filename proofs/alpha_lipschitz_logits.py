r"""Lemma alpha_lipschitz_logits (α on a box): |α(s) − α(s′)| ≤ sqrt(n)*‖s − s′‖*exp(M) if norm_inf(s) ≤ M

Statement
    For α(s) = ⟨exp(s), 1ₙ⟩ and s, s′ in the box ||·||_∞ ≤ M:  |α(s) − α(s′)| ≤ √n e^M ||s − s′||₂.
    The √n is Cauchy–Schwarz against 1ₙ and is tight when all coordinates move together.

Check
    Side identity by sympy at n = 3; numeric: 60-digit reference α (attnreg.reference.forms.vector_blocks,
    A = I) at random pairs in the box, n = 8, including pairs s′ = s + t 1 (the tight direction).
"""
from __future__ import annotations

import sympy as sp

from ._core import Goal, Lemma, Step, by, cite
from ._forms import parts
from ._ops import SYM
from .exp_lipschitz_box import BOX, DU, LEMMA as EXPBOX, box_route
from .symbols import M, ds, n, quantity, vector

DALPHA = quantity("|α(s) − α(s′)|", r"|\alpha(s)-\alpha(s')|")


def steps(n_, d):
    s, s2 = vector("s", n_), vector("r", n_)
    p, q = parts(SYM, s), parts(SYM, s2)
    side = Step("α(s) − α(s′) = ⟨1ₙ, exp(s) − exp(s′)⟩", "α = Σ_i u_i", p.alpha - q.alpha,
                SYM.dot(SYM.ones(n_), p.u - q.u))
    return [
        by("cauchy_schwarz", DALPHA, "<=", sp.sqrt(n) * DU, "‖1ₙ‖₂ = √n", side=(side,)),
        cite(EXPBOX, {}, "s and s′ lie in the box"),
    ]


def numeric(ctx, rng):
    def pair(k, Mv, n):  # every third pair from the corner s = M·1 along −1, the tight direction
        s = [Mv if k % 3 == 0 else Mv * ctx.mpf(rng.uniform(-1, 1)) for _ in range(n)]
        t = ctx.mpf(10) ** -rng.randint(1, 6)
        return s, ([v - t for v in s] if k % 3 == 0 else
                   [min(Mv, max(-Mv, v + ctx.mpf(rng.gauss(0, 0.3)))) for v in s])
    return box_route(ctx, rng, "alpha", pair, lambda Mv: ctx.sqrt(8) * ctx.exp(Mv),
                     "reference α at random pairs in the box and along 1 from the corner s = M·1, n=8")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("exp_lipschitz_box",),
              goal=Goal(DALPHA, "<=", sp.sqrt(n) * sp.exp(M) * ds), assume=(BOX,))
