r"""Interval branch-and-bound: certify ``sup_{x ∈ box} ||M(x)||₂ ≤ target`` (``run`` side).

Every box gets a rigorous upper bound (:mod:`.enclose` then :mod:`.specnorm`) and, at its centre, a
rigorous lower bound of ``||M(centre)||₂``. Each round splits the ``BATCH`` worst boxes whose bound is
above the target (worst first, ties broken by the box's integer coordinates), each along the side that
contributes most to the spread of its entries (``Σ |∂_k M| · rad X_k`` from the mean-value form), and evaluates the
children as independent tasks on an :class:`concurrent.futures.Executor`. Which boxes are split
depends only on the bounds, never on the number of workers or on timing, so the certificate is the
same for any executor as long as the run ends before ``budget_seconds`` (``max_boxes`` is a budget
that does not depend on speed). The run stops when

* every box's bound is ``≤`` the target's lower end: **certified**, the bound is the largest box bound;
* a centre's lower bound exceeds the target's upper end: **not certified**, a counterexample (confirmed
  again at 50 digits by the reference, :mod:`.confirm`);
* the budget is spent: **not certified**, with the best bound reached and the worst remaining box.

With ``refine_to = ρ`` in the spec, splitting goes on after the target is met until the bound is within
``ρ`` times the best lower bound (or the budget ends; the result is then still certified).
"""
from __future__ import annotations

import decimal
import heapq
import threading
import time

import flint
import mpmath

from . import decimals, enclose, specnorm
from . import problem as P
from .confirm import norm_at

BATCH = 64  # boxes split per round: fixed, so results do not depend on the number of workers
_ROWS = {}
_LOCK = threading.Lock()  # arb's precision is process-global: one evaluation at a time per process


def _rows(prob):
    key = repr((prob["form"], prob["data"], prob["precision_bits"]))
    if key not in _ROWS:
        _ROWS.clear()
        _ROWS[key] = P.rows(prob)
    return _ROWS[key]


def evaluate(prob, boxes):
    """For each box: ``(upper bound of sup ||M||₂ on it, lower bound of ||M(centre)||₂, side to split)``, the
    bounds as decimals.

    Top level and pure, so it can run in another process or on a Dask worker."""
    with _LOCK:
        return _evaluate(prob, boxes)


def _evaluate(prob, boxes):
    old = flint.ctx.prec
    flint.ctx.prec = prob["precision_bits"]
    try:
        rows = _rows(prob)
        fn = enclose.formula(prob["quantity"], prob["version"])
        out = []
        for box in boxes:
            xc, X = P.geometry(prob, box)
            spread = [0.0] * len(box)
            ub = specnorm.upper(enclose.on_box(fn, rows, xc, X, spread))
            lb, _ = specnorm.point_norm_lower(enclose.point(fn, rows, xc))
            out.append((decimals.up(ub), decimals.down(lb), max(range(len(box)), key=lambda k: (spread[k], -k))))
        return out
    finally:
        flint.ctx.prec = old


def _map(executor, prob, boxes, chunks):
    if executor is None or len(boxes) < 2:
        return evaluate(prob, boxes)
    size = -(-len(boxes) // max(1, chunks))
    parts = [boxes[i:i + size] for i in range(0, len(boxes), size)]
    return [r for part in executor.map(evaluate, [prob] * len(parts), parts) for r in part]


def run(spec, executor=None, chunks=1, progress=None, clock=time.monotonic):
    """Branch-and-bound for a :class:`.spec.Spec`; returns the certificate body (a dict, JSON-ready)."""
    prob = spec.problem()
    old = flint.ctx.prec
    flint.ctx.prec = prob["precision_bits"]
    try:
        target = P.target_enclosure(prob)
        t_low, t_high = decimal.Decimal(decimals.down(target)), decimal.Decimal(decimals.up(target))
    finally:
        flint.ctx.prec = old
    start = clock()
    root = P.root(spec.p)
    heap, evaluated, best_lower, found = [], 0, None, None

    def add(boxes, results):
        nonlocal best_lower, found
        for box, (ub, lb, k) in zip(boxes, results):
            heapq.heappush(heap, (-decimal.Decimal(ub), box, ub, k))
            if best_lower is None or decimal.Decimal(lb) > decimal.Decimal(best_lower[0]):
                best_lower = (lb, box)
            if found is None and decimal.Decimal(lb) > t_high:
                found = (box, lb)

    def goal():  # split boxes above this; with refine_to, keep going until bound <= refine_to * lower bound
        if spec.refine_to is None:
            return t_low
        return min(t_low, decimal.Decimal(spec.refine_to) * decimal.Decimal(best_lower[0]))

    add([root], evaluate(prob, [root]))
    evaluated = 1
    stop = None
    while True:
        if found is not None:
            stop = "counterexample"
            break
        if -heap[0][0] <= goal():
            stop = "certified"
            break
        if clock() - start > spec.budget_seconds:
            stop = "budget_seconds"
            break
        picked = []
        while heap and -heap[0][0] > goal() and len(picked) < BATCH:
            picked.append(heapq.heappop(heap))
        if evaluated + 2 * len(picked) > spec.max_boxes:
            for item in picked:
                heapq.heappush(heap, item)
            stop = "max_boxes"
            break
        children = [c for item in picked for c in P.split(item[1], item[3])]
        add(children, _map(executor, prob, children, chunks))
        evaluated += len(children)
        if progress is not None:
            progress(evaluated, -heap[0][0], clock() - start)
    leaves = sorted(heap, key=lambda item: item[1])
    bound = max(leaves, key=lambda item: (-item[0], item[1]))
    certified = found is None and -heap[0][0] <= t_low  # a refinement cut short is still a certificate
    body = dict(prob, status="certified" if certified else "not certified", stop=stop,
                target_enclosure=[str(t_low), str(t_high)], bound=bound[2],
                lower_bound=dict(value=best_lower[0], point=P.centre_text(prob, best_lower[1]),
                                 box=[list(c) for c in best_lower[1]]),
                boxes_evaluated=evaluated,
                boxes=[dict(box=[list(c) for c in item[1]], bound=item[2]) for item in leaves])
    if not certified:
        body["worst_box"] = dict(box=[list(c) for c in bound[1]], bound=bound[2])
        body["counterexample"] = _counterexample(prob, found[0] if found else bound[1], t_high)
    return body


def _counterexample(prob, box, t_high):
    """The centre of ``box`` if ``||M||₂`` there provably exceeds the target (arb) and does so at 50 digits
    through the mpmath reference (:mod:`.confirm`); else None."""
    (_, lower, _), = evaluate(prob, [box])
    if not decimal.Decimal(lower) > t_high:
        return None
    point = P.centre_text(prob, box)
    value, target = norm_at(prob, point, dps=50)
    if value > target:
        return dict(point=point, box=[list(c) for c in box], value=_digits(value), target=_digits(target), dps=50)
    return None


def _digits(v) -> str:
    return mpmath.nstr(v, 50, strip_zeros=False)
