r"""Adversarial search for the largest ratio a claim allows (float64, production path).

Objective at a point of the domain: ``lipschitz`` — the operator norm of the Jacobian in the ``wrt``
variable (power iteration / generalised power iteration for a spectral-norm input, see
:func:`.jacobian.opnorm`), the sup of the local ratio; ``upper`` — the size of q; ``lower`` — minus
it. The search runs in rounds of work items (:class:`Item`: a grid point, a number of evaluations, a seed,
an optional start) evaluated by the pure function :func:`run_item`, so any ``map`` (a process pool, a
cluster's executor) runs a round, in any order, on any number of workers, with the same result:

1. *screening*: every grid point of :func:`.domain.grid` takes its structured starts (:mod:`.starts`),
   random ones and a short ascent, with an equal share of a third of the work (at least 4 evaluations
   each, so a tiny budget may be overspent, deterministically; points dearer than :data:`MAX_COST` units
   per evaluation are left out);
2. *growth in n*: where the worst ratio still grows with n at the largest n searched (for some d, R),
   its growth exponent ``p`` (from the two largest n) extrapolates where the ratio would reach 1,
   ``n₁ = n_max·(1/r)^{1/p}``, and grid points at ``max(2 n_max, 1.2 n₁)`` are screened, up to
   :data:`.domain.N_MAX` and a cost cap; repeated while the ratio keeps growing (a constant that misses
   a ``√n`` fails only beyond some n, which a fixed grid may never reach);
3. *ascent*: (1+1) evolution strategy (step-size rule 1.5× on success, 0.92× on failure; each step
   moves all variables or one of them) from the best points of the most promising grid points, with
   fresh random starts in between, until the work is spent.

Work is counted in units (estimated microseconds per evaluation, :func:`cost`), never in seconds: the
result is a function of the claim, ``seed`` and ``budget`` alone, on any machine load; a wall-clock
limit (:data:`WALL_FACTOR` × budget + 60 s) is only a safety net, and the result says when it was hit.
"""
from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from attnreg.reference import measure

from . import domain, jacobian, starts

UNITS_PER_SECOND = 6e5  # one unit ≈ one microsecond of evaluation; 0.6 s of it per second leaves room for load
WALL_FACTOR = 20  # the wall-clock safety net: 20 × budget + 60 s (a loaded machine runs far slower than the units)
MAX_COST = 20000.0  # units per evaluation: grid points dearer than this are not searched (n grows geometrically)
GROWTH_ROUNDS = 3


@dataclass
class Best:
    pt: domain.Point
    obs: float = math.nan  # the largest (lower: smallest) value of the objective found here
    v: dict | None = None  # admissible variables where it was found
    raw: dict | None = None
    direction: np.ndarray | None = None  # lipschitz: the maximising direction, unit in the wrt norm
    evals: int = 0


@dataclass
class SearchResult:
    bests: list
    evaluations: int
    seconds: float
    capped: bool
    notes: list = field(default_factory=list)
    stopped_early: bool = False  # a violation at least ``stop_ratio`` ended the search before its budget

    def ranked(self, claim) -> list:
        ok = [b for b in self.bests if math.isfinite(b.obs)]
        return sorted(ok, key=lambda b: -ratio(claim.kind, b.pt.K, b.obs))


def ratio(kind: str, K: float, obs: float) -> float:
    """How far ``obs`` goes against the constant ``K``: > 1 means violated (inf when K ≤ 0 is)."""
    if not math.isfinite(obs):
        return math.nan
    if kind == "lower":
        return K / obs if obs > 0 else (math.inf if K > obs else 0.0)
    return obs / K if K > 0 else (math.inf if obs > K else 0.0)


def evaluate(claim, pt, v, rng):
    """``(obs, direction)`` at admissible ``v``; ``obs`` is nan where float64 cannot represent it."""
    with np.errstate(all="ignore"):
        if claim.kind == "lipschitz" and claim.form == "vector" and claim.wrt == "A" and claim.quantity != "grad":
            return jacobian.vector_data_opnorm(claim, v)
        if claim.kind == "lipschitz":
            J = jacobian.jacobian(claim, v)
            shape = v[claim.wrt].shape if claim.matrix_wrt and claim.wrt_norm == "spectral" else None
            return jacobian.opnorm(J, shape, rng=rng, iterations=10, starts=1)
        obs = measure.measure(claim, v)
    return (obs if math.isfinite(obs) else math.nan), None


def cost(claim, pt) -> float:
    """Estimated microseconds per evaluation (the unit of work), fitted to timings on 2 cores."""
    n, d = pt.n, pt.d
    matrix = claim.form == "matrix"
    units = 50.0 + 30.0 * matrix + 40.0 * (claim.quantity == "grad")
    if claim.kind != "lipschitz":
        return units
    rows = n if matrix else 1
    out = d * d if claim.quantity == "grad" and matrix else (d if claim.quantity == "grad" else
                                                            rows * (1 if claim.quantity in ("alpha", "loss") else n))
    k = {"x": d, "X": d * d}.get(claim.wrt, n * d)
    if not matrix and claim.wrt == "A" and claim.quantity != "grad":
        return units + 0.12 * n * n  # ||G||·||x||, one n × n SVD
    units += 0.02 * out * k + (0.3 * n**3 / 64 if claim.quantity == "grad" else 0.0)
    if claim.matrix_wrt and claim.wrt_norm == "spectral":
        units += 30.0 + 8.0 * n * d
    return units


@dataclass(frozen=True)
class Item:
    """One unit of work: search grid point ``index`` for ``evals`` evaluations (picklable)."""

    claim: object
    pt: domain.Point
    index: int
    evals: int
    seed: int
    round: int
    start: dict | None = None  # ascend from here (a raw point) instead of screening
    stop_ratio: float | None = None
    deadline: float = math.inf  # time.time() after which the item gives up (reported as capped)


@dataclass
class Found:  # what run_item returns for one item
    index: int
    obs: float
    v: dict | None
    raw: dict | None
    direction: object
    evals: int
    units: float
    capped: bool
    stopped: bool


def run_item(item: Item) -> Found:
    """Evaluate one work item; a pure function of ``item`` (its rng is seeded by the claim, seed, grid point
    and round), so rounds can be mapped over any executor."""
    claim, pt = item.claim, item.pt
    rng = np.random.default_rng([item.seed, zlib.crc32(claim.id.encode()), item.index, item.round])
    shapes = domain.variables(claim, pt)
    goal = -1.0 if claim.kind == "lower" else 1.0
    st = dict(obs=math.nan, v=None, raw=None, direction=None, evals=0, capped=False, stopped=False)

    def f(raw):
        v = domain.project(claim, pt, raw)
        obs, direction = evaluate(claim, pt, v, rng)
        st["evals"] += 1
        if math.isfinite(obs) and (not math.isfinite(st["obs"]) or goal * obs > goal * st["obs"]):
            st.update(obs=obs, v=v, raw=raw, direction=direction)
            if item.stop_ratio is not None and ratio(claim.kind, pt.K, obs) >= item.stop_ratio:
                st["stopped"] = True
        return goal * obs if math.isfinite(obs) else -math.inf

    def done():
        st["capped"] |= time.time() > item.deadline
        return st["capped"] or st["stopped"] or st["evals"] >= item.evals

    if item.start is None:  # screening: half the evaluations on structured and two random starts
        gen = starts.structured(claim, pt, shapes, rng)
        while st["evals"] < max(1, item.evals // 2) - 2 and not done():
            raw = next(gen, None)
            if raw is None:
                break
            f(raw)
        for _ in range(2):
            if not done():
                f(starts.random_start(claim, pt, shapes, rng))
    scales = _scales(claim, pt, shapes)
    dim = sum(int(np.prod(sh)) for sh in shapes.values())
    rounds = 0
    while not done():
        raw0 = item.start if rounds == 0 and item.start is not None else st["raw"]
        if raw0 is None or rounds % 3 == 2:
            raw0 = starts.random_start(claim, pt, shapes, rng)
        _ascend(f, raw0, scales, rng, steps=int(60 + 15 * math.sqrt(dim)), stop=done)
        rounds += 1
    return Found(item.index, st["obs"], st["v"], st["raw"], st["direction"], st["evals"],
                 st["evals"] * cost(claim, pt), st["capped"], st["stopped"])


def search(claim, *, budget: float, seed: int = 0, progress=None, stop_ratio: float | None = None,
           map_fn=map) -> SearchResult:
    """Run the search with ``budget`` seconds of nominal work (see the module docstring); with
    ``stop_ratio``, stop after the round in which some grid point reaches that ratio (a clear violation,
    to be confirmed). ``map_fn(run_item, items)`` evaluates a round (default: the builtin ``map``)."""
    points, notes = domain.grid(claim)
    points = [pt for pt in points if cost(claim, pt) <= MAX_COST] or points[:1]
    total = budget * UNITS_PER_SECOND
    start_time = time.perf_counter()
    deadline = time.time() + WALL_FACTOR * budget + 60
    bests = [Best(pt) for pt in points]
    state = dict(spent=0.0, evals=0, capped=False, stopped=False)

    goal = -1.0 if claim.kind == "lower" else 1.0

    def round_(items):
        for found in sorted(map_fn(run_item, items), key=lambda found: found.index):  # any order in
            b = bests[found.index]
            if math.isfinite(found.obs) and (not math.isfinite(b.obs) or goal * found.obs > goal * b.obs):
                b.obs, b.v, b.raw, b.direction = found.obs, found.v, found.raw, found.direction
            b.evals += found.evals
            state["spent"] += found.units
            state["evals"] += found.evals
            state["capped"] |= found.capped
            state["stopped"] |= found.stopped
            if progress:
                progress(min(1.0, state["spent"] / total))

    def screen(indices, work, rnd):
        share = work / max(1, len(indices))
        round_([Item(claim, bests[i].pt, i, max(4, int(share / cost(claim, bests[i].pt))), seed, rnd,
                     stop_ratio=stop_ratio, deadline=deadline) for i in indices])

    # 1. screening of the whole grid
    screen(range(len(points)), total / 3, 0)
    # 2. growth in n: screen larger n where the worst ratio still grows at the largest n searched
    for g in range(GROWTH_ROUNDS):
        if state["stopped"] or state["capped"]:
            break
        new = [pt for pt in _grow(claim, bests) if cost(claim, pt) <= MAX_COST]
        known = {(b.pt.n, b.pt.d, b.pt.R) for b in bests}
        new = [pt for pt in new if (pt.n, pt.d, pt.R) not in known]
        if not new:
            break
        first = len(bests)
        bests += [Best(pt) for pt in new]
        notes.append("grid extended in n to " + ", ".join(sorted({f"{pt.n}" for pt in new}, key=int))
                     + " (the worst ratio still grew with n)")
        screen(range(first, len(bests)), total / 6 / GROWTH_ROUNDS * 2, 1 + g)
    # 3. ascent from the most promising grid points, the rest of the work in equal shares
    rnd = 10
    while not (state["stopped"] or state["capped"]) and state["spent"] < total:
        ranked = sorted((i for i in range(len(bests)) if bests[i].raw is not None),
                        key=lambda i: (-ratio(claim.kind, bests[i].pt.K, bests[i].obs), i))
        if not ranked:
            break
        top = ranked[:4]
        share = (total - state["spent"]) / len(top) / 2 if total - state["spent"] > 4 * 2000 else \
            (total - state["spent"]) / len(top)
        round_([Item(claim, bests[i].pt, i, max(4, int(share / cost(claim, bests[i].pt))), seed, rnd,
                     start=bests[i].raw, stop_ratio=stop_ratio, deadline=deadline) for i in top])
        rnd += 1
    if state["stopped"]:
        notes.append(f"stopped early at a ratio of at least {stop_ratio:g}")
    if state["capped"]:
        notes.append(f"stopped at the wall-clock safety limit of {WALL_FACTOR * budget + 60:g} s before the work "
                     f"budget was spent (the result then depends on the machine's speed)")
    return SearchResult(bests, state["evals"], time.perf_counter() - start_time, state["capped"], notes,
                        stopped_early=bool(state["stopped"]))


def _grow(claim, bests) -> list:
    """New grid points at larger n where the worst ratio grows with n (module docstring, step 2)."""
    by_dR = {}
    for b in bests:
        if math.isfinite(b.obs):
            r = ratio(claim.kind, b.pt.K, b.obs)
            if math.isfinite(r):
                by_dR.setdefault((b.pt.d, b.pt.R), {})[b.pt.n] = max(r, by_dR.get((b.pt.d, b.pt.R), {}).get(b.pt.n, 0))
    out = []
    for (d, R), rs in sorted(by_dR.items()):
        ns = sorted(rs)
        if len(ns) < 2:
            continue
        (n1, n2), (r1, r2) = ns[-2:], (rs[ns[-2]], rs[ns[-1]])
        if not (r2 > 0 and r1 > 0 and r2 > 1.01 * r1 and r2 >= max(rs.values()) * 0.999):
            continue
        p = math.log(r2 / r1) / math.log(n2 / n1)
        target = n2 * (1 / r2) ** (1 / p) * 1.2 if r2 < 1 else 2 * n2
        n_new = int(min(domain.N_MAX[claim.form], max(2 * n2, math.ceil(target))))
        if n_new > n2:
            pt = domain.point(claim, n_new, d, R)
            if pt is not None and domain.admissible_n(claim, n_new) and domain.searchable(claim, pt):
                out.append(pt)
    return out


def _scales(claim, pt, shapes):
    radius = dict(A=pt.cap("A"), x=pt.cap("x"), A1=pt.cap("A1"), A2=pt.cap("A2"), X=pt.cap("X"),
                  b=1.0 if pt.simplex else pt.cap("b"), B=1.0 if pt.simplex else pt.cap("b"))
    if claim.form == "matrix" and math.isfinite(pt.r("kron")):
        radius["A1"] = min(radius["A1"], math.sqrt(pt.r("kron")) + 1e-300)
        radius["A2"] = min(radius["A2"], math.sqrt(pt.r("kron")) + 1e-300)
    return {k: max(radius[k], 1e-3) for k in shapes}


def _ascend(f, raw, scales, rng, *, steps, stop):
    """(1+1)-ES from ``raw``; ``f`` returns the goal (higher is better)."""
    fx, sigma, names = f(raw), 0.3, list(raw)
    for _ in range(steps):
        if stop():
            return
        moved = names if rng.random() < 0.5 else [names[int(rng.integers(len(names)))]]
        trial = {k: raw[k] + sigma * scales[k] * rng.standard_normal(raw[k].shape) / math.sqrt(raw[k].size)
                 if k in moved else raw[k] for k in names}
        ft = f(trial)
        if ft > fx:
            raw, fx, sigma = trial, ft, min(1.0, sigma * 1.5)
        else:
            sigma = sigma * 0.92 if sigma > 1e-5 else 0.3
