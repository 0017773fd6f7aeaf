r"""Confirm a violation at ≥ 50 digits (``attnreg.reference``) and build the counterexample record.

A float64 ratio above 1 is only a lead. For ``lipschitz`` the search's objective is the local ratio
(the Jacobian's operator norm), so a violation needs two actual points: ``p₀ = (1 − 2t)p`` and
``p₁ = p₀ + t·r·V`` with V the maximising direction (unit in the ``wrt`` norm) and r the radius of
p's ball, both strictly inside it, for ``t = 10⁻³, 10⁻⁵, 10⁻⁷`` (the ratio tends to the local one as
t → 0). Every assumption — norms (spectral norms as ``sqrt(λ_max(MᵀM))`` by ``eigsy``), the simplex
(rows made dyadic so that they sum to 1 exactly), step restrictions on the pair, the ranges of n, d,
R — is re-checked at high precision on the exact float inputs, and so are both sides:
``||q(p₁) − q(p₀)||`` against ``constant · ||p₁ − p₀||``, ``||q||`` (or ``α_j``, the loss) against
``constant``. :func:`evaluate_record` is shared with ``attnreg claims replay``.
"""
from __future__ import annotations

import math

import numpy as np

from attnreg.reference import forms, make_context, measure

from . import domain
from .assume import NormBound, ParamBound, Simplex, StepBound

DPS = 60
FORMAT = "attnreg-counterexample/1"
_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def confirm(claim, best, *, dps: int = DPS) -> dict | None:
    """The counterexample record if ``best`` violates ``claim`` at ``dps`` digits, else None."""
    base = _inside(claim, best.pt, best.v)
    if claim.kind != "lipschitz":
        record = _record(claim, best.pt, base, None, dps)
        return record if record["violated"] and not record["failed_assumptions"] else None
    p = claim.wrt
    r = _radius(claim, best.pt, base)
    V = best.direction.reshape(base[p].shape)
    for t in (1e-3, 1e-5, 1e-7):
        p0 = base[p] * (1 - 2 * t) if math.isfinite(r) else base[p]
        step = t * (r if math.isfinite(r) and r > 0 else max(1.0, float(np.linalg.norm(base[p])))) * V
        for sign in (1.0, -1.0):
            p1 = p0 + sign * step
            if np.array_equal(p1, p0):
                continue
            record = _record(claim, best.pt, dict(base, **{p: p0}), p1, dps + int(-math.log10(t)))
            if record["violated"] and not record["failed_assumptions"]:
                return record
    return None


def evaluate_record(claim, params: dict, inputs: dict, p_prime, dps: int) -> dict:
    """Both sides of the claim at the recorded inputs, at ``dps`` digits (for replay)."""
    pt = domain.point(claim, params["n"], params["d"], params["R"])
    if pt is None:
        raise ValueError(f"the claim's assumptions are empty at {params}")
    return _record(claim, pt, inputs, p_prime, dps)


def _record(claim, pt, inputs, p_prime, dps) -> dict:
    ctx = make_context(dps)
    params = pt.params
    K = claim.constant.evaluate(params, ctx=ctx)
    failed = _failed_assumptions(claim, pt, ctx, inputs, p_prime)
    if p_prime is None:
        lhs = measure.measure(claim, inputs, ctx=ctx)
        rhs = K
        violated = lhs < rhs if claim.kind == "lower" else lhs > rhs
        meaning = ("the value", "the constant")
    else:
        moved = dict(inputs, **{claim.wrt: p_prime})
        lhs = measure.measure(claim, inputs, moved, ctx=ctx)
        rhs = K * measure.step(claim, inputs, moved, ctx=ctx)
        violated = lhs > rhs
        meaning = (f"||q({claim.wrt}') - q({claim.wrt})||", f"constant * ||{claim.wrt}' - {claim.wrt}||")
    return dict(format=FORMAT, id=claim.id, statement=claim.statement(), claim=claim.raw, params=params,
                inputs={k: np.asarray(a).tolist() for k, a in inputs.items()},
                wrt=claim.wrt if p_prime is not None else None,
                p_prime=None if p_prime is None else np.asarray(p_prime).tolist(),
                dps=dps, lhs=ctx.nstr(lhs, 40), rhs=ctx.nstr(rhs, 40), constant=ctx.nstr(K, 40),
                lhs_meaning=meaning[0], rhs_meaning=meaning[1],
                ratio=None if rhs == 0 or lhs == 0 else ctx.nstr(rhs / lhs if claim.kind == "lower" else lhs / rhs, 20),
                violated=bool(violated and abs(lhs - rhs) > ctx.mpf(10) ** (-dps + 10) * abs(rhs)),
                failed_assumptions=failed)


def _inside(claim, pt, v) -> dict:
    """Copies of ``v`` pulled a factor SHRINK inside every norm bound; simplex rows made dyadic."""
    out = {}
    for k, a in v.items():
        a = np.array(a, dtype=float)
        if k in ("b", "B") and pt.simplex:
            a = _dyadic_simplex(np.atleast_2d(a)).reshape(a.shape)
        else:
            a = a * domain.SHRINK
        out[k] = a
    return out


def _dyadic_simplex(B):
    """Rows on the simplex whose entries are multiples of 2⁻⁴⁰, so each row sums to 1 exactly."""
    D = np.round(np.clip(B, 0, 1) * 2.0**40) / 2.0**40
    for row in D:
        j = int(np.argmax(row))
        row[j] = 0.0
        row[j] = 1.0 - np.sum(row)  # exact: every entry is a multiple of 2⁻⁴⁰ and the sum is ≤ 1
    return D


def _radius(claim, pt, v) -> float:
    p = claim.wrt
    if p in ("x", "A"):
        return pt.r(p)
    if p == "X":
        return pt.r("X")
    other = v["A2" if p == "A1" else "A1"]
    return min(pt.r(p), pt.r("kron") / max(np.linalg.norm(other, 2), 1e-300))


def _failed_assumptions(claim, pt, ctx, v, p_prime) -> list:
    """The assumptions (texts) that do not hold at high precision."""
    env = pt.params
    failed = []
    points = [v] if p_prime is None else [v, dict(v, **{claim.wrt: p_prime})]
    for a in claim.hypotheses:
        if isinstance(a, ParamBound):
            ok = _OPS[a.op](ctx.mpf(env[a.symbol]), a.value.evaluate({}, ctx=ctx))
        elif isinstance(a, Simplex):
            rows = [np.atleast_2d(w[k]) for w in points for k in ("b", "B") if k in w]
            ok = all(all(x >= 0 for x in r) and ctx.fsum(ctx.mpf(x) for x in r) == 1 for R in rows for r in R)
        elif isinstance(a, NormBound):
            bound = a.bound.evaluate(env, ctx=ctx)
            sizes = [_norm(claim, ctx, a.target, w) for w in points]
            ok = all(s is None or (s < bound if a.strict else s <= bound) for s in sizes)
        else:
            ok = p_prime is None or _step_ok(claim, ctx, a, v, p_prime, env)
        if not ok:
            failed.append(a.text)
    return failed


def _norm(claim, ctx, target, v):
    if target in ("x", "X"):
        return measure.l2(ctx, np.ravel(v[target]).tolist())
    if target == "b":
        rows = np.atleast_2d(v.get("b", v.get("B")) if ("b" in v or "B" in v) else np.zeros((0, 1)))
        return max((measure.l2(ctx, r.tolist()) for r in rows), default=None)
    if target == "kron":
        return measure.spectral(ctx, v["A1"]) * measure.spectral(ctx, v["A2"])
    return measure.spectral(ctx, v[target])


def _step_ok(claim, ctx, a: StepBound, v, p_prime, env) -> bool:
    """``||S(p') − S(p)||_∞`` on the pair, when the restriction concerns the moving variable."""
    moving = "x" if claim.wrt in ("x", "X") else "A"
    if a.step != moving:
        return True  # the other variable does not move: the restriction holds trivially
    w = dict(v, **{claim.wrt: p_prime})
    d0, d1 = _logits(claim, ctx, v), _logits(claim, ctx, w)
    change = max(abs(x - y) for r0, r1 in zip(d0, d1) for x, y in zip(r0, r1))
    bound = a.bound.evaluate(env, ctx=ctx)
    return change < bound if a.strict else change <= bound


def _logits(claim, ctx, v):
    m = lambda a: [[ctx.mpf(x) for x in row] for row in np.atleast_2d(a)]  # noqa: E731
    if claim.form == "vector":
        return [forms.matvec(ctx, m(v["A"]), m(v["x"])[0])]
    return forms.logits(ctx, m(v["A1"]), m(v["A2"]), m(v["X"]))
