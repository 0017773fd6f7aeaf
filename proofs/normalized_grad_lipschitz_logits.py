r"""Lemma normalized_grad_lipschitz_logits (normalized row gradient): ‖g(s) − g(s′)‖ ≤ ‖s − s′‖*(3*‖b‖/2 + 7/4)

Statement
    For the row gradient g(s) = p_N(s) = J(s) c(s) of ℓ_N = ½||f(s) − b||² (Lemma grad_normalized;
    J = diag f − f fᵀ, c = f − b) and all s, s′ ∈ Rⁿ (no box, no n, no exp):
        ||g(s) − g(s′)||₂ ≤ (¼ + 3(1 + ||b||₂)/2) ||s − s′||₂   (= 3.25 ||s − s′|| when ||b|| ≤ 1).
    In the proof, sup is the supremum over z on the segment [s, s′] and unit vectors v.

Check
    Side identities by sympy at the checker's sizes (n = 3, d = 2); numeric: the reference row gradient
    (attnreg.reference.rows.normalized) at 60 digits, random pairs, n = 8, ||b|| ≤ 1.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import rows

from ._core import Goal, Lemma, Step, by, cite
from ._forms import jac, p_normalized, parts
from ._numeric import norm2, rand_vector, with_norm, within
from ._ops import SYM
from .softmax_jacobian_half import LEMMA as JACOBIAN, NJ
from .softmax_lipschitz_logits import SUPJ
from .symbols import ds, norm_b, quantity, vector

Q = {k: quantity(t, x) for k, t, x in (
    ("DG", "‖g(s) − g(s′)‖", r"\|g(s)-g(s')\|"), ("SDG", "sup ‖Dg(z)[v]‖", r"\sup\|Dg(z)[v]\|"),
    ("T1", "sup ‖J(Jv)‖", r"\sup\|J(Jv)\|"), ("T2", "sup ‖DJ[v] c‖", r"\sup\|DJ[v]c\|"),
    ("T2a", "sup ‖(Jv) ∘ c‖", r"\sup\|(Jv)\circ c\|"), ("T2b", "sup ‖(Jv)⟨f, c⟩‖", r"\sup\|(Jv)\langle f,c\rangle\|"),
    ("T2c", "sup ‖f ⟨Jv, c⟩‖", r"\sup\|f\langle Jv,c\rangle\|"), ("NJv", "sup ‖Jv‖", r"\sup\|Jv\|"),
    ("NJvi", "sup ‖Jv‖_∞", r"\sup\|Jv\|_\infty"), ("NC", "sup ‖c‖", r"\sup\|c\|"), ("NF", "sup ‖f‖", r"\sup\|f\|"))}
CONSTANT = sp.Rational(1, 4) + sp.Rational(3, 2) * (1 + norm_b)


def steps(n, d):
    s, b, v = vector("s", n), vector("b", n), vector("v", n)
    r = parts(SYM, s, b)
    J, f, c = jac(SYM, r.f), r.f, r.c
    Jv = J * v
    DJc = (SYM.diag(Jv) - Jv * f.T - f * Jv.T) * c
    deriv = Step("Dg(z)[v] = J(Jv) + DJ[v] c, DJ[v] = diag(Jv) − (Jv) fᵀ − f (Jv)ᵀ", "product rule with ∂f/∂s = J",
                 p_normalized(SYM, f, c).jacobian(s) * v, J * Jv + DJc)
    split = Step("DJ[v] c = (Jv) ∘ c − (Jv)⟨f, c⟩ − f ⟨Jv, c⟩", "expand", DJc,
                 SYM.had(Jv, c) - Jv * SYM.dot(f, c) - f * SYM.dot(Jv, c))
    return [
        by("mean_value", Q["DG"], "<=", Q["SDG"] * ds, "g is C¹ on Rⁿ (convex)", side=(deriv,),
           uses=("f_deriv", "grad_normalized")),
        by("triangle", Q["SDG"], "<=", Q["T1"] + Q["T2"], "sup of a sum ≤ sum of sups"),
        by("submultiplicative", Q["T1"], "<=", SUPJ * Q["NJv"], "‖J(Jv)‖ ≤ ‖J‖ ‖Jv‖"),
        by("triangle", Q["T2"], "<=", Q["T2a"] + Q["T2b"] + Q["T2c"], "three terms", side=(split,)),
        by("hadamard", Q["T2a"], "<=", Q["NJvi"] * Q["NC"], "‖(Jv) ∘ c‖ ≤ ‖Jv‖_∞ ‖c‖"),
        by("norm_comparison", Q["NJvi"], "<=", Q["NJv"], "‖w‖_∞ ≤ ‖w‖₂"),
        by("cauchy_schwarz", Q["T2b"], "<=", Q["NF"] * Q["NC"] * Q["NJv"], "‖t a‖ = |t|‖a‖ and |⟨f, c⟩| ≤ ‖f‖ ‖c‖"),
        by("cauchy_schwarz", Q["T2c"], "<=", Q["NF"] * Q["NJv"] * Q["NC"], "‖f t‖ = |t|‖f‖ and |⟨Jv, c⟩| ≤ ‖Jv‖ ‖c‖"),
        by("triangle", Q["NC"], "<=", Q["NF"] + norm_b, "c = f − b"),
        by("probability", Q["NF"], "<=", 1, "f(z) is a probability vector"),
        by("submultiplicative", Q["NJv"], "<=", SUPJ, "‖Jv‖ ≤ ‖J‖ ‖v‖ with ‖v‖ = 1"),
        cite(JACOBIAN, {NJ: SUPJ}, "f(z) is a probability vector for every z"),
    ]


def numeric(ctx, rng):
    nv, ratios = 8, []
    for _ in range(12):
        b = with_norm(ctx, rand_vector(ctx, rng, nv), ctx.mpf(rng.uniform(0.1, 1)), norm2)
        s = rand_vector(ctx, rng, nv, rng.uniform(0.1, 4))
        s2 = [a + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 5))) for a in s]
        g = lambda z: rows.normalized(ctx, z, b)[1]  # noqa: E731
        C = ctx.mpf(1) / 4 + ctx.mpf(3) / 2 * (1 + norm2(ctx, b))
        ratios.append(norm2(ctx,
                            [x - y for x, y in zip(g(s), g(s2))]) / (C * norm2(ctx, [x - y for x, y in zip(s, s2)])))
    return within(ctx, ratios, "reference row gradient p_N (attnreg.reference.rows.normalized) at random pairs, n=8, "
                               "||b|| in [0.1, 1]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric,
              requires=("f_deriv", "grad_normalized", "softmax_jacobian_half"),
              goal=Goal(Q["DG"], "<=", CONSTANT * ds))
