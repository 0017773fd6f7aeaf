r"""Interval branch-and-bound: certify ``sup_{x ∈ box} ||M(x)||₂ ≤ target`` (``run`` side).

Every box gets a rigorous upper bound (:mod:`.enclose` then :mod:`.specnorm`) and, at its centre, a
rigorous lower bound of ``||M(centre)||₂``. With ``refine_to = ρ`` the run first fixes a good lower bound
(:func:`seed`): :mod:`.estimate` chooses a dyadic box centre by a float64 search, and ``||M||₂`` there,
evaluated in arb, is the first best lower bound. The run goes in rounds. A round fixes its goal ``g``
(the target's lower end; with ``refine_to``, ``min(target, ρ · best lower bound so far)``), takes the
``BATCH`` worst boxes above ``g`` (worst first, ties broken by the box's integer coordinates), bisects
each along the side that contributes most to the spread of its entries (``Σ |∂_k M| · rad X_k`` from
the mean-value form) and hands every child to a task. A task evaluates its child and goes on
bisecting inside that subtree, worst box first, until its boxes are below the goal or it has spent
its ``K`` evaluations; with ``refine_to`` it may raise its own goal by the lower bounds found in its
subtree. ``K`` is ``KMAX`` (less only where ``max_boxes`` is near); in the opening, the first
``OPENING`` rounds while they have fewer than ``FAN`` tasks, ``K = 1``: the tree fans out breadth first,
so the first large round is many tasks that a pool started during the opening can share.

Why the seed and the large ``K``: with a fixed goal, the tree is fixed — a box is split exactly when its
bound exceeds the goal — whatever the rounds, so rounds are only synchronisations, and fewer is better.
Without the seed the goal ``ρ ·`` (best centre so far) rose at every round (0.562 → 0.589 on the ``f``
example), which is why rounds were small (``K = 96 / tasks``). With the seed it does not move on the
examples (the seed is the best lower bound of the run), and the first large round finishes the tree.

A task is a deterministic function of its box, the round's goal and ``K``, and a round's results are
merged in task order, so the certificate is byte for byte the same for any executor and any number of
workers as long as the run ends before ``budget_seconds`` (``max_boxes`` is a budget that does not
depend on speed). The run stops when

* every box's bound is ``≤`` the target's lower end: **certified**, the bound is the largest box bound;
* a centre's lower bound exceeds the target's upper end: **not certified**, a counterexample (confirmed
  again at 50 digits by the reference, :mod:`.confirm`); a task stops at the first one (the seed's point
  is not a candidate: counterexamples are centres of the tree's boxes);
* the budget is spent: **not certified**, with the best bound reached and the worst remaining box.
"""
from __future__ import annotations

import decimal
import functools
import heapq
import os
import threading
import time

import flint
import mpmath

from ..executor import share
from . import decimals, enclose, estimate, specnorm
from . import problem as P
from .confirm import norm_at

BATCH = 64  # boxes split per round (their children are the round's tasks)
KMAX = 64  # evaluations per task after the opening
OPENING, FAN = 3, 16  # the first OPENING rounds evaluate their children only (K = 1) while they have < FAN
_ROWS = {}
_LOCK = threading.Lock()  # arb's precision is process-global: one evaluation at a time per process
D = decimal.Decimal


def _rows(prob):
    key = repr((prob["form"], prob["data"], prob["precision_bits"]))
    if key not in _ROWS:
        _ROWS.clear()
        _ROWS[key] = P.rows(prob)
    return _ROWS[key]


class _precision:
    def __init__(self, bits):
        self.bits = bits

    def __enter__(self):
        self.old = flint.ctx.prec
        flint.ctx.prec = self.bits

    def __exit__(self, *exc):
        flint.ctx.prec = self.old
        return False


def _centre_lower(fn, rows, xc) -> str:
    """A rigorous lower bound of ``||M(xc)||₂`` (arb, rounded down to a decimal)."""
    lb, _ = specnorm.point_norm_lower(enclose.point(fn, rows, xc))
    return decimals.down(lb)


def _one(prob, rows, fn, box):
    xc, X = P.geometry(prob, box)
    spread = [0.0] * len(box)
    ub = specnorm.upper(enclose.on_box(fn, rows, xc, X, spread))
    return decimals.up(ub), _centre_lower(fn, rows, xc), max(range(len(box)), key=lambda k: (spread[k], -k))


def evaluate(prob, boxes):
    """For each box: ``(upper bound of sup ||M||₂ on it, lower bound of ||M(centre)||₂, side to split)``, the
    bounds as decimals."""
    with _LOCK, _precision(prob["precision_bits"]):
        rows, fn = _rows(prob), enclose.formula(prob["quantity"], prob["version"])
        return [_one(prob, rows, fn, box) for box in boxes]


def expand(prob, rnd, tasks):
    """Run a round's tasks ``[(box, K), ...]`` (``rnd``: the target's lower end, ``refine_to``, the best
    lower bound so far and the target's upper end, as decimal strings or None). For each task:
    ``(leaves, evaluated, best, found)`` — the subtree's leaves ``(box, bound, side)`` in evaluation order,
    how many boxes it evaluated, its best centre ``(lower, box)`` and its first counterexample
    ``(box, lower)`` or None.

    Top level and pure, so it can run in another process or on a Dask worker."""
    t_low, rho, floor, t_high = (None if v is None else D(v) for v in rnd)
    with _LOCK, _precision(prob["precision_bits"]):
        rows, fn = _rows(prob), enclose.formula(prob["quantity"], prob["version"])
        return [_subtree(prob, rows, fn, box, K, t_low, rho, floor, t_high) for box, K in tasks]


def _subtree(prob, rows, fn, box, K, t_low, rho, floor, t_high):
    """Evaluate ``box`` and bisect inside it, worst box first, while it has budget and a box is above the
    goal: ``t_low``, or with ``refine_to`` ``min(t_low, ρ · best lower bound)`` — the round's best raised by
    what this subtree finds (only this subtree's own boxes, so the task depends on nothing else)."""
    heap, order, best, found, n = [], 0, None, None, 0

    def visit(b):
        nonlocal order, best, found, n
        ub, lb, k = _one(prob, rows, fn, b)
        n += 1
        order += 1
        heapq.heappush(heap, (-D(ub), b, order, ub, k))
        if best is None or D(lb) > D(best[0]):
            best = (lb, b)
        if found is None and D(lb) > t_high:
            found = (b, lb)

    visit(box)
    while found is None and n + 2 <= K:
        g = t_low if rho is None else min(t_low, rho * max(floor, D(best[0])))
        if -heap[0][0] <= g:
            break
        _, b, _, _, k = heapq.heappop(heap)
        for child in P.split(b, k):
            visit(child)
    leaves = [(b, ub, k) for _, b, _, ub, k in sorted(heap, key=lambda item: item[2])]
    return leaves, n, best, found


def seed(prob):
    """``(lower, box)``: ``||M||₂ ≥ lower`` (arb, rounded down) at the centre of the box that
    :func:`.estimate.best_box` chooses — a rigorous lower bound; only the choice of the point is float64."""
    box = estimate.best_box(prob)
    with _LOCK, _precision(prob["precision_bits"]):
        rows, fn = _rows(prob), enclose.formula(prob["quantity"], prob["version"])
        return _centre_lower(fn, rows, P.geometry(prob, box)[0]), box


def _map(pool, prob, rnd, tasks, cpu):
    """:func:`expand` over the tasks, results in task order, whatever runs them (:func:`.executor.share`).
    ``cpu`` (a dict or None) receives the CPU seconds each process spent on this round, by process id."""
    if pool is None or pool.slots == 1 or len(tasks) < 2:
        parts = [tasks]
    else:
        nparts = min(len(tasks), PARTS_PER_SLOT * pool.slots)
        parts = [tasks[j::nparts] for j in range(nparts)]  # interleaved: the worst boxes' subtrees spread out
    done = share(pool, functools.partial(_timed, prob, rnd), parts)
    out = [None] * len(tasks)
    for j, (res, pid, seconds) in enumerate(done):
        out[j::len(parts)] = res
        if cpu is not None:
            cpu[pid] = cpu.get(pid, 0.0) + seconds
    return out


PARTS_PER_SLOT = 4  # parts per worker and round: enough to balance uneven subtrees, few messages


def _timed(prob, rnd, tasks):
    """:func:`expand`, with the process that ran it and the CPU seconds it took there."""
    start = time.process_time()
    out = expand(prob, rnd, tasks)
    return out, os.getpid(), time.process_time() - start


def run(spec, pool=None, progress=None, clock=time.monotonic, cpu=None):
    """Branch-and-bound for a :class:`.spec.Spec`; returns the certificate body (a dict, JSON-ready).

    ``pool``: a :class:`attnreg.verify.executor.Pool` (None: everything in this process). ``cpu``: a list
    that receives, per round, ``{process id: CPU seconds}`` (the benchmark's view of the critical path)."""
    prob = spec.problem()
    with _precision(prob["precision_bits"]):
        target = P.target_enclosure(prob)
        t_low, t_high = D(decimals.down(target)), D(decimals.up(target))
    start, alone = clock(), time.perf_counter()
    root = P.root(spec.p)
    heap, evaluated, best_lower, found, rounds = [], 0, None, None, 0
    rho = None if spec.refine_to is None else D(spec.refine_to)
    if rho is not None:  # fix the goal before the tree is built (see the module docstring)
        best_lower = seed(prob)

    def goal():  # split boxes above this; with refine_to, keep going until bound <= refine_to * lower bound
        return t_low if rho is None else min(t_low, rho * D(best_lower[0]))

    def merge(results):
        nonlocal best_lower, found, evaluated
        for leaves, n, best, hit in results:
            for box, ub, k in leaves:
                heapq.heappush(heap, (-D(ub), box, ub, k))
            evaluated += n
            if best_lower is None or D(best[0]) > D(best_lower[0]):
                best_lower = best
            if found is None and hit is not None:
                found = hit

    rnd = (str(t_low), None, None, str(t_high))
    merge(_map(None, prob, rnd, [(root, 1)], None))
    if pool is not None and pool.deferred:  # work done alone: counts towards starting the pool (executor.share)
        pool.alone += time.perf_counter() - alone
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
        g = goal()
        picked = []
        while heap and -heap[0][0] > g and len(picked) < BATCH:
            picked.append(heapq.heappop(heap))
        if evaluated + 2 * len(picked) > spec.max_boxes:
            for item in picked:
                heapq.heappush(heap, item)
            stop = "max_boxes"
            break
        children = [c for item in picked for c in P.split(item[1], item[3])]
        K = max(1, min(KMAX, (spec.max_boxes - evaluated) // len(children)))
        if rounds < OPENING and len(children) < FAN:  # the opening: a few levels breadth first (K = 1)
            K = 1
        rounds += 1
        rnd = (str(t_low), None if rho is None else str(rho), best_lower[0], str(t_high))
        spent = None if cpu is None else {}
        merge(_map(pool, prob, rnd, [(c, K) for c in children], spent))
        if cpu is not None:
            cpu.append(spent)
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

