r"""Lemma rescaled_grad_lipschitz_logits (rescaled row gradient): ‖G(s) − G(s′)‖ ≤ ‖s − s′‖*(2*n*‖b‖^2 + ‖b‖*(3*sqrt(n)
+ n) + 2)*exp(2*M) if norm_inf(s) ≤ M

Statement
    For the row gradient G(s) = p_R(s) = u ∘ h − ⟨h, b⟩ u of ℓ_R = ½||h||² (Lemma grad_rescaled; u = exp(s),
    h = u − α b) and s, s′ in the box ||·||_∞ ≤ M:
        ||G(s) − G(s′)||₂ ≤ e^{2M} (2 + (n + 3√n) ||b|| + 2n ||b||²) ||s − s′||₂,
    which is (3n + 3√n + 2) e^{2M} ||s − s′|| when ||b|| ≤ 1.
    In the proof, sup is the supremum over z on the segment and unit vectors v; all bounds hold on the box.

Check
    Side identities by sympy at the checker's sizes (n = 3, d = 2); numeric: the reference row gradient
    (attnreg.reference.rows.rescaled) at 60 digits, random pairs in the box, n = 8, ||b|| ≤ 1.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import rows

from ._core import Goal, Lemma, Step, by, given
from ._forms import p_rescaled, parts
from ._numeric import norm2, rand_vector, with_norm, within
from ._ops import SYM
from .exp_lipschitz_box import BOX, SUPZ
from .symbols import M, ds, n, norm_b, quantity, vector

Q = {k: quantity(t, x) for k, t, x in (
    ("DG", "‖G(s) − G(s′)‖", r"\|G(s)-G(s')\|"), ("SDG", "sup ‖DG(z)[v]‖", r"\sup\|DG(z)[v]\|"),
    ("R1", "sup ‖(u∘v)∘h‖", r"\sup\|(u\circ v)\circ h\|"), ("R2", "sup ‖u∘Dh[v]‖", r"\sup\|u\circ Dh[v]\|"),
    ("R3", "sup ‖⟨Dh[v], b⟩ u‖", r"\sup\|\langle Dh[v],b\rangle u\|"),
    ("R4", "sup ‖⟨h, b⟩ (u∘v)‖", r"\sup\|\langle h,b\rangle(u\circ v)\|"),
    ("UI", "sup ‖u‖_∞", r"\sup\|u\|_\infty"), ("U2", "sup ‖u‖₂", r"\sup\|u\|_2"),
    ("HI", "sup ‖h‖_∞", r"\sup\|h\|_\infty"),
    ("H2", "sup ‖h‖₂", r"\sup\|h\|_2"), ("NDH", "sup ‖Dh[v]‖", r"\sup\|Dh[v]\|"), ("AL", "sup α", r"\sup\alpha"),
    ("BI", "‖b‖_∞", r"\|b\|_\infty"), ("UV", "sup ‖u∘v‖", r"\sup\|u\circ v\|"),
    ("UVD", "sup |⟨u, v⟩|", r"\sup|\langle u,v\rangle|"), ("DHB", "sup |⟨Dh[v], b⟩|", r"\sup|\langle Dh[v],b\rangle|"),
    ("HB", "sup |⟨h, b⟩|", r"\sup|\langle h,b\rangle|"))}
CONSTANT = sp.exp(2 * M) * (2 + (n + 3 * sp.sqrt(n)) * norm_b + 2 * n * norm_b ** 2)


def steps(n_, d):
    s, b, v = vector("s", n_), vector("b", n_), vector("v", n_)
    r = parts(SYM, s, b)
    u, h = r.u, r.h
    Dh = SYM.had(u, v) - SYM.dot(u, v) * b
    deriv = Step("DG(z)[v] = (u∘v)∘h + u∘Dh[v] − ⟨Dh[v], b⟩u − ⟨h, b⟩(u∘v)", "product rule with ∂u/∂s = diag(u)",
                 p_rescaled(SYM, u, h, b).jacobian(s) * v,
                 SYM.had(SYM.had(u, v), h) + SYM.had(u, Dh) - SYM.dot(Dh, b) * u - SYM.dot(h, b) * SYM.had(u, v))
    dh = Step("Dh[v] = u∘v − ⟨u, v⟩ b", "Lemma h_deriv in the logits", h.jacobian(s) * v, Dh)
    q, nb = Q, norm_b
    return [
        by("mean_value", q["DG"], "<=", q["SDG"] * ds, "the box is convex", side=(deriv,),
           uses=("grad_rescaled", "u_deriv", "h_deriv")),
        by("triangle", q["SDG"], "<=", q["R1"] + q["R2"] + q["R3"] + q["R4"], "four terms"),
        by("hadamard", q["R1"], "<=", q["UI"] * q["HI"], "‖(u∘h)∘v‖ ≤ ‖u∘h‖_∞ ‖v‖ ≤ ‖u‖_∞ ‖h‖_∞, ‖v‖ = 1"),
        by("hadamard", q["R2"], "<=", q["UI"] * q["NDH"], "‖u∘w‖ ≤ ‖u‖_∞ ‖w‖"),
        by("homogeneity", q["R3"], "=", q["DHB"] * q["U2"], "‖t u‖ = |t| ‖u‖"),
        by("cauchy_schwarz", q["DHB"], "<=", q["NDH"] * nb, "|⟨Dh[v], b⟩| ≤ ‖Dh[v]‖ ‖b‖"),
        by("homogeneity", q["R4"], "=", q["HB"] * q["UV"], "‖t w‖ = |t| ‖w‖"),
        by("cauchy_schwarz", q["HB"], "<=", q["H2"] * nb, "|⟨h, b⟩| ≤ ‖h‖ ‖b‖"),
        by("triangle", q["NDH"], "<=", q["UV"] + q["UVD"] * nb, "Dh[v] = u∘v − ⟨u, v⟩ b", side=(dh,),
           uses=("h_deriv",)),
        by("hadamard", q["UV"], "<=", q["UI"], "‖u∘v‖ ≤ ‖u‖_∞ ‖v‖, ‖v‖ = 1"),
        by("cauchy_schwarz", q["UVD"], "<=", q["U2"], "|⟨u, v⟩| ≤ ‖u‖ ‖v‖, ‖v‖ = 1"),
        by("triangle", q["HI"], "<=", q["UI"] + q["AL"] * q["BI"], "h = u − α b"),
        by("norm_comparison", q["BI"], "<=", nb, "‖b‖_∞ ≤ ‖b‖₂"),
        by("triangle", q["H2"], "<=", q["U2"] + q["AL"] * nb, "h = u − α b"),
        by("sum_of_terms", q["AL"], "<=", n * q["UI"], "α = Σ_i u_i with u_i ≤ ‖u‖_∞"),
        by("norm_comparison", q["U2"], "<=", sp.sqrt(n) * q["UI"], "‖u‖₂ ≤ √n ‖u‖_∞"),
        by("exp_monotone", q["UI"], "<=", sp.exp(SUPZ), "u_i = exp(z_i) and z_i ≤ ‖z‖_∞"),
        given(SUPZ, "<=", M, BOX, "hypothesis norm_inf(s) <= M for s and s′; the segment stays in the convex box"),
    ]


def numeric(ctx, rng):
    nv, ratios = 8, []
    for _ in range(12):
        Mv = ctx.mpf(rng.uniform(0.2, 2))
        b = with_norm(ctx, rand_vector(ctx, rng, nv), ctx.mpf(rng.uniform(0.1, 1)), norm2)
        s = [Mv * ctx.mpf(rng.uniform(-1, 1)) for _ in range(nv)]
        s2 = [min(Mv, max(-Mv, a + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 5))))) for a in s]
        G = lambda z: rows.rescaled(ctx, z, b)[1]  # noqa: E731
        nb = norm2(ctx, b)
        C = ctx.exp(2 * Mv) * (2 + (nv + 3 * ctx.sqrt(nv)) * nb + 2 * nv * nb ** 2)
        ratios.append(norm2(ctx,
                            [x - y for x, y in zip(G(s), G(s2))]) / (C * norm2(ctx, [x - y for x, y in zip(s, s2)])))
    return within(ctx, ratios,
                  "reference row gradient p_R (attnreg.reference.rows.rescaled) at random pairs in the box, "
                               "n=8, ||b|| in [0.1, 1]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("grad_rescaled", "u_deriv", "h_deriv"),
              goal=Goal(Q["DG"], "<=", CONSTANT * ds), assume=(BOX,))
