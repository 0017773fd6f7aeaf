r"""The admissible domain of a claim: the grid of (n, d, R) explored, and the variables at one point.

Free parameters range over what the ``assume`` list allows (defaults ``n ≥ 1``, ``d ≥ 1``, ``R > 0``).
The grid crosses candidate values of n (vector 1, 2, 3, 8, 24, 64, 256; matrix 1, 2, 3, 6, 12, 24, 48: roughly
geometric, and the search extends it towards :data:`N_MAX` where the worst ratio still grows with n), d
(vector 1, 2, 4; matrix 1, 2, 3) and R (0.25 … 5 for the softmax quantities, 0.25 … 3 where values
grow like ``exp(logits)``), clipped to the assumptions (their end points are added). Where
``exp`` enters, points whose logits could exceed :data:`LOGIT_CAP` in size are left out (float64
overflow would only hide the answer). A variable that no assumption bounds is searched inside a ball
of radius ``free = 2·max(1, R)``; the evidence says so.

At one point the variables are held raw (any real arrays) and mapped onto the domain by
:func:`project`: a spectral-norm bound scales A onto its ball, ℓ2/Frobenius bounds scale x, X and
the rows of B, ``norm(kron(A1,A2)) ≤ r`` scales A1 and A2 by the same factor, ``simplex(b)``
projects each row (Euclidean) onto the simplex and, under a norm bound too, moves it towards the
uniform row.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from attnreg.statement import NEEDS_B
from attnreg._norms import l2, spectral

from .assume import NormBound, ParamBound, Simplex, StepBound
from .expr import ExprError

LOGIT_CAP = 80.0
N_GRID = {"vector": (1, 2, 3, 8, 24, 64, 256), "matrix": (1, 2, 3, 6, 12, 24, 48)}  # roughly geometric
N_MAX = {"vector": 4096, "matrix": 256}  # where the growth step may take n (the cost cap of the search applies too)
D_GRID = {"vector": (1, 2, 4), "matrix": (1, 2, 3)}
R_SOFT = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
R_EXP = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
SHRINK = 1 - 1e-9  # strict bounds, and confirmed inputs, stay this far inside


class DomainError(ValueError):
    """The assumptions leave nothing to search; one sentence."""


@dataclass
class Point:
    n: int
    d: int
    R: float
    K: float  # the claimed constant here
    radius: dict  # target -> bound (math.inf when unconstrained)
    simplex: bool
    steps: dict = field(default_factory=dict)  # "x" / "A" -> bound on the step's logit change
    free: float = 2.0

    @property
    def params(self) -> dict:
        return dict(n=self.n, d=self.d, R=self.R)

    def r(self, target: str) -> float:
        return self.radius.get(target, math.inf)

    def cap(self, target: str) -> float:
        """The radius the search uses: the bound, or ``free`` when there is none."""
        return min(self.r(target), self.free) if target != "kron" else self.r("kron")


def exp_type(claim) -> bool:
    """Values grow like exp(logits) (everything but the softmax quantities)."""
    return not (claim.quantity in ("f", "c") or claim.quantity in ("loss", "grad") and claim.version == "normalized")


def _ranges(claim) -> dict:
    """``symbol -> [(low, strict), (high, strict)]`` from the claim's ``n/d/R`` assumptions."""
    ranges = {s: [(-math.inf, False), (math.inf, False)] for s in "ndR"}
    for a in claim.hypotheses:
        if isinstance(a, ParamBound):
            v = a.value.evaluate({})
            side = 0 if a.op in (">=", ">") else 1
            lo, hi = ranges[a.symbol]
            if side == 0 and (v > lo[0] or v == lo[0] and a.op == ">"):
                ranges[a.symbol][0] = (v, a.op == ">")
            if side == 1 and (v < hi[0] or v == hi[0] and a.op == "<"):
                ranges[a.symbol][1] = (v, a.op == "<")
    return ranges


def admissible_n(claim, n: int) -> bool:
    """Whether ``n`` satisfies the claim's assumptions on n."""
    (lo, lo_strict), (hi, hi_strict) = _ranges(claim)["n"]
    return (n > lo if lo_strict else n >= lo) and (n < hi if hi_strict else n <= hi)


def searchable(claim, pt: Point) -> bool:
    """False where float64 ``exp`` could overflow (values growing like exp(logits) only)."""
    return not (exp_type(claim) and logit_bound(claim, pt) > LOGIT_CAP)


def grid(claim) -> tuple[list[Point], list[str]]:
    """The (n, d, R) points searched, in a spread-out order, and notes for the evidence."""
    ranges = _ranges(claim)
    ns = _integers(N_GRID[claim.form], ranges["n"], "n")
    ds = _integers(D_GRID[claim.form], ranges["d"], "d")
    rs = _reals(R_EXP if exp_type(claim) else R_SOFT, ranges["R"])
    points, notes, dropped, undefined = [], [], 0, []
    for n, d, R in itertools.product(ns, ds, rs):
        try:
            claim.constant.evaluate(dict(n=n, d=d, R=R))
        except ExprError as exc:
            undefined.append(f"n={n}, d={d}, R={R:g}: {exc}")
            continue
        pt = point(claim, n, d, R)
        if pt is None:
            continue
        if not searchable(claim, pt):
            dropped += 1
            continue
        points.append(pt)
    if not points and len(undefined) == len(ns) * len(ds) * len(rs):
        raise DomainError(f"the constant {claim.constant.text!r} is undefined at every (n, d, R) of the grid "
                          f"(n in {list(ns)}, d in {list(ds)}, R in {list(rs)}; e.g. at {undefined[0]})")
    if not points:
        raise DomainError("the assumptions leave no admissible (n, d, R) on the grid "
                          f"(n in {list(ns)}, d in {list(ds)}, R in {list(rs)})")
    if undefined:
        notes.append(f"the constant is undefined at {len(undefined)} grid points (e.g. {undefined[0]}); "
                     f"those were left out")
    if dropped:
        notes.append(f"{dropped} grid points left out: logits could exceed {LOGIT_CAP:g} (float64 exp overflow)")
    if any(math.isinf(pt.r(t)) for pt in points for t in _targets(claim) if not (t == "b" and pt.simplex)):
        notes.append("unconstrained variables searched within radius 2·max(1, R)")
    order = _spread(len(points))
    return [points[i] for i in order], notes


def point(claim, n: int, d: int, R: float) -> Point | None:
    """The domain at (n, d, R), or None where the assumptions are empty there."""
    env = dict(n=n, d=d, R=R)
    try:
        K = claim.constant.evaluate(env)
    except ExprError:
        return None
    radius, steps, simplex = {}, {}, False
    for a in claim.hypotheses:
        if isinstance(a, Simplex):
            simplex = True
        elif isinstance(a, NormBound | StepBound):
            try:
                r = a.bound.evaluate(env) * (SHRINK if a.strict else 1.0)
            except ExprError:
                return None
            if r < 0 or a.strict and r <= 0:
                return None
            table, key = (radius, a.target) if isinstance(a, NormBound) else (steps, a.step)
            table[key] = min(table.get(key, math.inf), r)
    if simplex and radius.get("b", math.inf) ** 2 < 1 / n:
        return None  # a simplex row has ||b|| ≥ 1/√n
    return Point(n, d, R, K, radius, simplex, steps, free=2.0 * max(1.0, R))


def logit_bound(claim, pt: Point) -> float:
    """An upper bound on every |logit| at this point."""
    if claim.form == "vector":
        return pt.cap("A") * pt.cap("x")
    a = min(pt.cap("A1") * pt.cap("A2"), pt.r("kron"))
    return a * pt.cap("X")


def variables(claim, pt: Point) -> dict:
    """Shapes of the variables at a point."""
    n, d = pt.n, pt.d
    shapes = dict(A=(n, d), x=(d,)) if claim.form == "vector" else dict(A1=(n, d), A2=(n, d), X=(d, d))
    if claim.quantity in NEEDS_B:
        shapes["b" if claim.form == "vector" else "B"] = (n,) if claim.form == "vector" else (n, n)
    return shapes


def project(claim, pt: Point, raw: dict) -> dict:
    """Map raw arrays onto the domain (see the module docstring); returns new arrays."""
    v = {}
    if claim.form == "vector":
        v["A"] = _spectral_ball(raw["A"], pt.cap("A"))
        v["x"] = _l2_ball(raw["x"], pt.cap("x"))
    else:
        A1, A2 = _spectral_ball(raw["A1"], pt.cap("A1")), _spectral_ball(raw["A2"], pt.cap("A2"))
        prod = spectral(A1, xp=np) * spectral(A2, xp=np)
        if prod > pt.r("kron"):
            t = math.sqrt(pt.r("kron") / prod)
            A1, A2 = A1 * t, A2 * t
        v.update(A1=A1, A2=A2, X=_l2_ball(raw["X"], pt.cap("X")))
    for name in ("b", "B"):
        if name in raw:
            rows = np.atleast_2d(raw[name])
            rows = _simplex_rows(rows, min(pt.r("b"), 1.0)) if pt.simplex else _row_balls(rows, pt.cap("b"))
            v[name] = rows[0] if name == "b" else rows
    return v


def _targets(claim):
    base = ("A", "x") if claim.form == "vector" else ("A1", "A2", "X")
    return base + (("b",) if claim.quantity in NEEDS_B else ())


def _spectral_ball(A, r):
    s = spectral(A, xp=np)
    return A * (r / s) if s > r else A.copy()


def _l2_ball(x, r):
    s = l2(x, xp=np)
    return x * (r / s) if s > r else x.copy()


def _row_balls(B, r):
    s = np.linalg.norm(B, axis=1, keepdims=True)
    return np.where(s > r, B * (r / np.where(s > 0, s, 1.0)), B)


def _simplex_rows(B, r):
    """Euclidean projection of each row onto the simplex, then towards the uniform row until ||b|| ≤ r."""
    n = B.shape[1]
    u = np.sort(B, axis=1)[:, ::-1]
    css = np.cumsum(u, axis=1) - 1
    k = np.arange(1, n + 1)
    rho = np.sum(u - css / k > 0, axis=1)
    theta = css[np.arange(B.shape[0]), rho - 1] / rho
    P = np.maximum(B - theta[:, None], 0.0)
    w = P - 1.0 / n
    ww = np.sum(w * w, axis=1, keepdims=True)
    limit = max(r * r - 1.0 / n, 0.0)
    t = np.where(ww > limit, np.sqrt(limit / np.where(ww > 0, ww, 1.0)), 1.0)
    return 1.0 / n + t * w


SIZE_CAP = {"n": N_MAX["vector"], "d": 32}


def _integers(base, rng, name):
    (lo, lo_strict), (hi, hi_strict) = rng
    lo = 1 if not math.isfinite(lo) else max(1, math.floor(lo) + 1 if lo_strict and float(lo).is_integer()
                                             else math.ceil(lo))
    hi = math.ceil(hi) - 1 if hi_strict and math.isfinite(hi) and float(hi).is_integer() else (
        math.floor(hi) if math.isfinite(hi) else math.inf)
    if lo > hi:
        raise DomainError(f"the assumptions leave no admissible {name}")
    if lo > SIZE_CAP[name]:  # the matrix-form Jacobians in A1/A2 take n³·d numbers: keep the search in memory
        raise DomainError(f"the assumptions ask for {name} ≥ {lo}; the search explores {name} ≤ {SIZE_CAP[name]} only")
    vals = {v for v in base if lo <= v <= hi} | {lo} | ({hi} if hi <= 4 * max(base) else set())
    vals = sorted(vals)
    return vals if len(vals) <= len(base) + 1 else [vals[i] for i in _even(len(vals), len(base) + 1)]


def _reals(base, rng):
    (lo, lo_strict), (hi, hi_strict) = rng
    if lo >= hi or lo_strict and hi_strict and lo == hi or hi <= 0:
        raise DomainError("the assumptions leave no admissible R")
    lo_eff = lo * (1 + 2**-20) if lo_strict and lo > 0 else (lo if lo > 0 else 0.0)
    hi_eff = hi * (1 - 2**-20) if hi_strict else hi
    vals = {v for v in base if lo_eff <= v <= hi_eff}
    if lo_eff > 0:
        vals |= {v for v in (lo_eff, 1.25 * lo_eff, 1.5 * lo_eff, 2 * lo_eff) if v <= hi_eff}
    if math.isfinite(hi_eff):
        vals |= {v for v in (hi_eff, hi_eff / 2, hi_eff / 4) if v >= lo_eff and v > 0}
    vals = sorted(vals)
    return vals if len(vals) <= 6 else [vals[i] for i in _even(len(vals), 6)]


def _even(count, keep):
    return sorted({round(i * (count - 1) / (keep - 1)) for i in range(keep)})


def _spread(count):
    """Indices 0..count-1 in bit-reversal order, so any prefix samples the whole grid."""
    bits = max(1, (count - 1).bit_length())
    order = sorted(range(1 << bits), key=lambda i: int(format(i, f"0{bits}b")[::-1], 2))
    return [i for i in order if i < count]
