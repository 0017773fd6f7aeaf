r"""Adversarial search for the largest ratio a claim allows (float64, production path).

Objective at a point of the domain: ``lipschitz`` — the operator norm of the Jacobian in the ``wrt``
variable (power iteration / generalised power iteration for a spectral-norm input, see
:func:`.jacobian.opnorm`), the sup of the local ratio; ``upper`` — the size of q; ``lower`` — minus
it. The search runs over the whole grid of :func:`.domain.grid`:

1. *screening*: round-robin over the grid points, each taking its next structured start
   (:mod:`.starts`) and a few random ones, until a third of the work is spent;
2. *ascent*: (1+1) evolution strategy (step-size rule 1.5× on success, 0.92× on failure; each step
   moves all variables or one of them) from the best points of the most promising grid points, and from
   fresh random starts, until the work is spent.

Work is counted in units (an estimate of microseconds per evaluation from the problem's size), so
the result is deterministic given ``seed`` and ``budget``; a wall-clock cap of ``2·budget + 2`` s
stops a run on a slow machine, and the result says so.
"""
from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import domain, jacobian, quantities, starts

UNITS_PER_SECOND = 6e5  # one unit ≈ one microsecond of evaluation; 0.6 s of it per second leaves room for load


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
        obs = quantities.size(claim, quantities.value(claim, v))
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


def search(claim, *, budget: float, seed: int = 0, progress=None, stop_ratio: float | None = None) -> SearchResult:
    """Run the search with ``budget`` seconds of work (see the module docstring); with ``stop_ratio``,
    stop as soon as some grid point reaches that ratio (a clear violation, to be confirmed)."""
    points, notes = domain.grid(claim)
    total = budget * UNITS_PER_SECOND
    rng = np.random.default_rng([seed, zlib.crc32(claim.id.encode())])
    bests = [Best(pt) for pt in points]
    shapes = [domain.variables(claim, pt) for pt in points]
    gens = [starts.structured(claim, pt, sh, rng) for pt, sh in zip(points, shapes)]
    goal = -1.0 if claim.kind == "lower" else 1.0
    state = dict(spent=0.0, evals=0, capped=False)
    start_time = time.perf_counter()

    def run(i, raw):
        """Evaluate a raw point at grid point i; returns the goal value (higher is better)."""
        b, pt = bests[i], points[i]
        v = domain.project(claim, pt, raw)
        obs, direction = evaluate(claim, pt, v, rng)
        state["spent"] += cost(claim, pt)
        state["evals"] += 1
        b.evals += 1
        if math.isfinite(obs) and (not math.isfinite(b.obs) or goal * obs > goal * b.obs):
            b.obs, b.v, b.raw, b.direction = obs, v, raw, direction
            if stop_ratio is not None and ratio(claim.kind, pt.K, obs) >= stop_ratio:
                state["stopped"] = True
        if progress:
            progress(min(1.0, state["spent"] / total))
        return goal * obs if math.isfinite(obs) else -math.inf

    def out_of_work(limit):
        if time.perf_counter() - start_time > 2 * budget + 2:
            state["capped"] = True
        return state["capped"] or state.get("stopped", False) or state["spent"] >= limit

    # 1. screening: structured starts, round-robin, then two random starts per point
    live = list(range(len(points)))
    while live and not out_of_work(total / 3):
        for i in list(live):
            raw = next(gens[i], None)
            if raw is None:
                live.remove(i)
                continue
            run(i, raw)
            if out_of_work(total / 3):
                break
    for _ in range(2):
        for i in range(len(points)):
            if out_of_work(total / 3):
                break
            run(i, starts.random_start(claim, points[i], shapes[i], rng))
    # 2. ascent from the most promising points, alternating with fresh random starts
    rounds = 0
    while not out_of_work(total):
        ranked = sorted((i for i in range(len(points)) if bests[i].raw is not None),
                        key=lambda i: -ratio(claim.kind, points[i].K, bests[i].obs))
        if not ranked:
            break
        top = ranked[: max(1, min(4, len(ranked)))]
        i = top[rounds % len(top)] if rounds % 3 != 2 else int(rng.choice(ranked[: max(4, len(ranked) // 3)]))
        raw0 = bests[i].raw if rounds % 3 != 2 else starts.random_start(claim, points[i], shapes[i], rng)
        dim = sum(int(np.prod(s)) for s in shapes[i].values())
        _ascend(lambda raw: run(i, raw), raw0, _scales(claim, points[i], shapes[i]), rng,
                steps=int(60 + 15 * math.sqrt(dim)), stop=lambda: out_of_work(total))
        rounds += 1
    if state.get("stopped"):
        notes.append(f"stopped early at a ratio of at least {stop_ratio:g}")
    if state["capped"]:
        notes.append(f"stopped at the wall-clock cap of {2 * budget + 2:g} s before the work budget was spent")
    return SearchResult(bests, state["evals"], time.perf_counter() - start_time, state["capped"], notes)


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
