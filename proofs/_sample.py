r"""The numeric route of a :class:`~._core.Bound`: its own semantics evaluated at ≥ 50 digits.

:func:`bound_ratio` draws admissible inputs for the Bound's hypotheses (norms drawn up to and often at
their limits; Lipschitz pairs near and far, both admissible), measures the Bound's statement with the
claims checker's own evaluator, :mod:`attnreg.reference.measure` (proven digits at the context's
precision), and returns the largest ratio measured / stated. A ratio above 1 refutes the stated constant
at a sampled point; a ratio below 1 says little more: with seed 0 the ratios range from 1.0 down to 0.006
(matrix_grad_lipschitz_normalized_factors), so a Bound with the wrong labels or a constant n times
too small can still pass here (the u_lipschitz_x Bound relabelled as f gives 0.11). That a Bound
states what its lemma proves is checked symbolically instead (:class:`~._core.Lemma` refuses a Bound
whose labels are not its goal). Evidence "confirmed", never a proof.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import measure

from ._numeric import Numeric, mp, norm2, rand_matrix, rand_vector, scaled, simplex, spectral, with_norm, within

VECTOR_SIZE, MATRIX_SIZE = (6, 4), (4, 3)

_LIMITS = {"norm(A) <= R": "A", "norm(x) <= R": "x", "norm(b) <= 1": "b", "norm(kron(A1,A2)) <= R": "kron",
           "norm(A1) <= R": "A1", "norm(A2) <= R": "A2", "norm(X) <= R": "X", "simplex(b)": "simplex"}


def _limits(bound, Rv):
    out = {}
    for text in bound.assume:
        if text not in _LIMITS:
            raise ValueError(f"the numeric route cannot sample the hypothesis {text!r}")
        out[_LIMITS[text]] = 1 if _LIMITS[text] in ("b", "simplex") else Rv
    return out


def _draw(ctx, rng, bound, lim, sizes, name):
    """One input ``name`` satisfying the hypotheses (norms drawn up to the limit, often at it)."""
    nv, dv = sizes
    frac = lambda: ctx.mpf(1) if rng.random() < 0.3 else ctx.mpf(rng.uniform(0.3, 1))  # noqa: E731
    free = ctx.mpf(rng.uniform(0.3, 1.5))
    if name == "b":
        if "simplex" in lim:
            return [simplex(ctx, rng, nv) for _ in range(nv)] if bound.form == "matrix" else simplex(ctx, rng, nv)
        rows = [with_norm(ctx, rand_vector(ctx, rng, nv), frac(), norm2) for _ in range(nv)]
        return rows if bound.form == "matrix" else rows[0]
    if name in ("x", "X"):
        shape = (dv, dv) if name == "X" else None
        raw = rand_matrix(ctx, rng, dv, dv) if shape else rand_vector(ctx, rng, dv)
        return with_norm(ctx, raw, lim.get(name, 2 * free) * frac(), norm2)
    if name == "A":
        return with_norm(ctx, rand_matrix(ctx, rng, nv, dv), lim.get("A", 2 * free) * frac(), spectral)
    r2 = min(lim.get("A2", ctx.inf), ctx.sqrt(lim["kron"]) if "kron" in lim else ctx.inf)
    r2 = (r2 if r2 < ctx.inf else free) * frac()
    r1 = min(lim.get("A1", ctx.inf), lim["kron"] / r2 if "kron" in lim else ctx.inf)
    r1 = (r1 if r1 < ctx.inf else free) * frac()
    return (with_norm(ctx, rand_matrix(ctx, rng, nv, dv), r1, spectral),
            with_norm(ctx, rand_matrix(ctx, rng, nv, dv), r2, spectral))


def _inputs(ctx, rng, bound, lim, sizes):
    b = _draw(ctx, rng, bound, lim, sizes, "b")
    if bound.form == "vector":
        return dict(A=_draw(ctx, rng, bound, lim, sizes, "A"), b=b, x=_draw(ctx, rng, bound, lim, sizes, "x"))
    A1, A2 = _draw(ctx, rng, bound, lim, sizes, "A12")
    return dict(A1=A1, A2=A2, B=b, X=_draw(ctx, rng, bound, lim, sizes, "X"))


def _moved(ctx, rng, bound, lim, sizes, p):
    """``p′``: the ``wrt`` input redrawn (far pair) or nudged (near pair), still admissible."""
    q, w = dict(p), bound.wrt
    if w in ("A1", "A2"):
        fresh = _draw(ctx, rng, bound, lim, sizes, "A12")[0 if w == "A1" else 1]
        cap = min(lim.get(w, ctx.inf), lim["kron"] / spectral(ctx, p["A2" if w == "A1" else "A1"])
                  if "kron" in lim else ctx.inf)
        norm = spectral
    else:
        fresh = _draw(ctx, rng, bound, lim, sizes, w)
        cap, norm = lim.get(w if w != "X" else "X", ctx.inf), (spectral if w == "A" else norm2)
    if rng.random() < 0.5:
        eps = ctx.mpf(10) ** -rng.randint(2, 6)
        fresh = [[a + eps * t for a, t in zip(ra, rt)] for ra, rt in zip(p[w], fresh)] if isinstance(p[w][0], list) \
            else [a + eps * t for a, t in zip(p[w], fresh)]
    size = norm(ctx, fresh)
    q[w] = scaled(fresh, cap / size) if size > cap else fresh
    return q


def bound_ratio(ctx, rng, bound, samples: int = 12) -> Numeric:
    """Largest measured/stated ratio of ``bound`` over random admissible points (pairs for lipschitz)."""
    sizes = VECTOR_SIZE if bound.form == "vector" else MATRIX_SIZE
    ratios = []
    for _ in range(samples):
        Rv = ctx.mpf(rng.uniform(0.4, 1.6))
        lim = _limits(bound, Rv)
        C = mp(ctx, bound.constant(), n=sizes[0], d=sizes[1], R=sp.Float(str(Rv), ctx.dps))
        p = _inputs(ctx, rng, bound, lim, sizes)
        p2 = _moved(ctx, rng, bound, lim, sizes, p) if bound.kind == "lipschitz" else None
        ratios.append(measure.ratio(bound, C, p, p2, ctx=ctx))
    shape = "n={}, d={}".format(*sizes)
    return within(ctx, ratios, f"{bound.kind} bound on {bound.quantity} ({bound.form}) at {shape}, R in [0.4, 1.6], "
                               "admissible points drawn at and inside the hypotheses")
