r"""Production solvers: L-BFGS and Newton on the attention regression losses, array-API generic.

``solve(A1, A2, B, X0, version=, method="newton-cg" | "lbfgs")`` minimises ``L(X)`` (normalized or
rescaled, with the ½; docs/design.md §2) from ``X0`` until ``||∇L||_F`` is at its rounding floor and below
``tol``, in the dtype and on the device of the inputs, and returns a
:class:`attnreg.solve_result.SolveResult`: ``X`` an array of the input library; ``loss``,
``grad_norm`` and the history in Python floats; ``stop`` (why it ended) and ``point`` (what it found:
global minimum, local minimum, saddle, degenerate, unbounded, or not a stationary point). The rules
are :mod:`attnreg.stopping`, shared with :func:`attnreg.reference.solve`; the objective is
:mod:`attnreg._objective` (one protocol for the matrix and vector forms).

Default start. ``X0 = 0`` for the normalized version. For the rescaled version without ``X0`` the
normalized problem is solved first and the rescaled one from its solution: both losses vanish at the
same points when ``B = f(X*)`` is realisable (``L_R = Σ_j α_j² ℓ^N_j``), the normalized loss is
bounded and its landscape benign, while the rescaled loss has genuine local minima (from ``X0 = 0``
only 19 of 72 realisable problems with ``X* ~ N(0, 1)``, n ≤ 40, d ≤ 4, reached ``X*``, 49 stopping at
local minima with a positive-definite Hessian, each reported as such; with this start 71 of 72 reach it,
the rates printed by ``benchmarks/solver_recovery.py``). ``restarts = k`` adds up to ``k`` seeded
random starts ``X0 ~ N(0, 1)`` (rescaled: each through the normalized problem first), stops at the first
global minimum, and keeps the best point (a global minimum first, then a converged run with the lowest
normalized loss).

Default tolerance: ``tol = 10⁴·eps·||A1||_F·||A2||_F·κ(X)`` (:func:`attnreg.stopping.tolerance`),
``κ = 1`` (normalized) or ``max_j α_j(X)²`` (rescaled); with it the iteration polishes on below ``tol``
until ``||∇L||`` stops halving and the loss stops falling (:class:`attnreg.stopping.Floor`). An explicit
``tol`` stops as soon as ``||∇L||`` plus its rounding error (:func:`attnreg.stopping.rounding`) is below it. A scale
that overflows, or whose tolerance underflows, stops the run as ``non-finite``.

Choosing a method. Newton (the default, ``"newton-cg"``) uses the exact dense Hessian when there are at
most :data:`attnreg._objective.DENSE_MAX` variables and truncated CG on exact Hessian-vector products
above; it converges quadratically. L-BFGS needs gradients only but crawls on rescaled problems whose
``α_j`` are spread widely (row j weighs ``α_j²``).

>>> import numpy as np, attnreg
>>> rng = np.random.default_rng(0)
>>> A1, A2, Xs = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)), rng.standard_normal((2, 2))
>>> r = attnreg.solve(A1, A2, attnreg.f(A1, A2, Xs), version="rescaled")
>>> r.converged, r.point.value, bool(np.allclose(r.X, Xs, rtol=0, atol=1e-8))
(True, 'global minimum', True)
"""
from __future__ import annotations

import math
import random  # the seeded restarts' starting points: library-neutral, the iterations stay in the input's library
import warnings
from collections.abc import Callable
from typing import Any, TypeAlias

from array_api_compat import device

from . import stopping
from ._lbfgs import LBFGS, dot
from ._norms import l2
from ._line_search import wolfe
from ._newton_cg import NewtonCG
from ._objective import DENSE_MAX, MatrixObjective, Objective, VectorObjective, scale
from ._types import Array, Namespace
from ._validate import check_int, check_solver_options, check_version, matrix_problem, namespace, vector_problem
from .solve_result import Point, SolveResult, Stop

__all__ = ["solve", "solve_vector", "SolveResult", "METHODS"]

METHODS = ("lbfgs", "newton-cg")

Search: TypeAlias = LBFGS | NewtonCG  # the direction of a step
Callback: TypeAlias = Callable[[int, float, float], object]  # (iteration, loss, ||∇L||) after each step
History: TypeAlias = list[tuple[int, float, float]]  # (iteration, loss, ||∇L||) per accepted iterate
# What a run hands to _conclude: (x, loss, ||∇L||, steps, Stop, message, history, tol used)
Parts: TypeAlias = tuple[Array, float, float, int, Stop, str, History, float]
MakeObjective: TypeAlias = Callable[[str], Objective]  # the objective of a version


def _minimise(obj: Objective, x: Array, search: Search, *, xp: Namespace, tol: float | None, max_iter: int,
              callback: Callback | None, k0: int = 0) -> Parts:
    """Iterate from ``x``; returns ``(x, f, ||∇L||, steps, Stop, message, history, tol used)``."""
    eps = float(xp.finfo(x.dtype).eps)
    f, g = obj.value_and_grad(x)
    gn = l2(g, xp=xp)
    history: History = [(k0, f, gn)]
    k, stop, msg, steepest, target = 0, None, "", False, math.nan
    escape = stopping.Escape() if obj.version == "rescaled" else None
    asymptote, floor, polishing = stopping.Asymptote(), stopping.Floor(search.patience, eps), False
    if not (math.isfinite(f) and math.isfinite(gn)):
        return x, f, gn, 0, Stop.NON_FINITE, ("the loss or its gradient at X0 is not finite in this dtype (the "
                                              "rescaled loss overflows for large logits); start closer to the "
                                              "data's scale"), history, target
    size = scale(obj, x)
    tiny = float(xp.finfo(x.dtype).smallest_normal)
    while True:
        target = stopping.tolerance(size, eps) if tol is None else tol
        if tol is None and not obj.zero and target < tiny and f == 0 and obj.fitted(x):  # c = f − B is exactly 0: P
            stop = Stop.CONVERGED  # and the gradient are exactly 0 whatever the data's scale, a global minimum
            break
        if not math.isfinite(target) or (tol is None and not obj.zero and target < tiny):
            how = "overflows" if not math.isfinite(target) else f"underflows (computed: {size:.3g})"
            stop, msg = Stop.NON_FINITE, (f"the gradient's scale ||A1||·||A2||·κ {how} in {x.dtype} here, so no "
                                          f"tolerance is meaningful; rescale the data")
            break
        slack = 0.0 if tol is None else stopping.rounding(size, eps)  # an explicit tol: met with the rounding error
        polishing = gn + slack <= target  # at the current iterate (a failed search below tol is the rounding floor)
        if polishing and (tol is not None or floor.reached(gn, f)):
            stop = Stop.CONVERGED
            break
        if k >= max_iter:
            stop, msg = Stop.MAX_ITER, f"stopped after max_iter = {max_iter} iterations"
            break
        p = -g / gn if steepest else search.direction(x, g)
        d0 = dot(g, p, xp=xp)
        if not d0 < 0:  # not a descent direction (rounding): fall back
            p, d0 = -g / gn, -gn

        def phi(t: float, x: Array = x, p: Array = p) -> tuple[float, float, tuple[Array, float, Array]]:
            xt = x + t * p
            with warnings.catch_warnings():  # trial steps may overflow (rescaled): inf means "too far"
                warnings.simplefilter("ignore", RuntimeWarning)
                ft, gt = obj.value_and_grad(xt)
                return ft, dot(gt, p, xp=xp), (xt, ft, gt)

        found = wolfe(phi, f, d0, 1.0, eps=eps)
        if found is None:
            if not steepest and search.reset():  # retry once along −∇L, unless that was the direction
                steepest = True
                continue
            if polishing:  # below tol already: the failed search is the rounding floor
                stop = Stop.CONVERGED
                break
            stop, msg = Stop.LINE_SEARCH, ("no step along −∇L satisfies the Wolfe conditions (the "
                                           f"{x.dtype} precision floor, typically)")
            if slack > target:
                msg += (f"; tol = {target:.3g} is below the gradient's rounding error here (about {slack:.3g}), so "
                        f"{x.dtype} cannot verify it")
            break
        _, (x_new, f, g_new) = found
        search.update(x_new - x, g_new - g)
        step = l2(x_new - x, xp=xp)
        x, g, steepest, k = x_new, g_new, False, k + 1
        gn = l2(g, xp=xp)
        history.append((k0 + k, f, gn))
        if callback is not None:
            callback(k0 + k, f, gn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            size = scale(obj, x)
        x_norm = l2(x, xp=xp)
        if escape is not None:
            lse, ell = obj.row_terms(x)
            msg = escape.update(x_norm, max(lse), sum(ell)) or ""
        msg = msg or asymptote.update(x_norm, step, gn, f) or ""
        if msg:
            stop = Stop.UNBOUNDED
            break
    assert stop is not None  # every break above sets it
    return x, f, gn, k, stop, msg, history, target


def _conclude(obj: Objective, parts: Parts, search_name: str, *, xp: Namespace, stages: list[str]) -> SolveResult:
    """Classify the last iterate (:func:`attnreg.stopping.classify`) and build the result."""
    x, f, gn, k, stop, msg, history, target = parts
    eps = float(xp.finfo(x.dtype).eps)
    info: dict[str, Any] = dict(tol=target, stages=stages)
    point, what = Point.NOT_STATIONARY, ""
    if stop is not Stop.NON_FINITE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lse, ell = obj.row_terms(x)
        info.update(loss_normalized=sum(ell), min_log_alpha=min(lse), max_log_alpha=max(lse))
        if stop is Stop.CONVERGED and obj.version == "rescaled" and obj.rows > 1:
            escaped = stopping.partial_escape(lse, ell, eps)
            if escaped:
                stop, msg = Stop.UNBOUNDED, escaped
        eig = None
        if stop is Stop.CONVERGED and obj.size <= DENSE_MAX and hasattr(xp, "linalg"):
            H = obj.hessian(x)
            if bool(xp.all(xp.isfinite(H))):
                lam = xp.linalg.eigvalsh((H + H.T) / 2)
                eig = (float(xp.min(lam)), float(xp.max(lam)))
                info["hessian_eigenvalues"] = eig
        point, what = stopping.classify(stop, loss_normalized=sum(ell), n=obj.rows, eps=eps, eigenvalues=eig,
                                           size=obj.size)
    if stop is Stop.CONVERGED:
        reason = (f"converged: ||∇L|| = {gn:.3g} ≤ tol = {target:.3g} after {k} iterations ({search_name}, "
                  f"{' then '.join(stages)}), at the {x.dtype} rounding floor; {what}")
    else:
        rel = "" if not math.isfinite(target) else \
            f"; ||∇L|| = {gn:.3g} {'≤' if gn <= target else '>'} tol = {target:.3g}"
        reason = f"{stop.value}: {msg}{rel}"
    return SolveResult(obj.X(x), f, gn, k, stop is Stop.CONVERGED, reason, history, search_name, obj.version,
                       info, stop, point)


def _search(obj: Objective, method: str, memory: int, xp: Namespace) -> Search:
    if method == "lbfgs":
        return LBFGS(xp=xp, memory=memory)
    dense = obj.hessian if obj.size <= DENSE_MAX and hasattr(xp, "linalg") else None
    # CG needs at most m = d² products in exact arithmetic; 250 caps the work per step for large d
    return NewtonCG(obj.hvp, xp=xp, max_cg=min(obj.size, 250), hessian=dense)


def _run(make: MakeObjective, x0: Array, **kw: Any) -> SolveResult:
    """:func:`_stages` with float overflow warnings silenced: every non-finite value is handled (a
    step too far, a Hessian out of range, a scale that overflows) and reported in the result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _stages(make, x0, **kw)


def _stages(make: MakeObjective, x0: Array, *, version: str, method: str, xp: Namespace, tol: float | None,
            max_iter: int, callback: Callback | None, memory: int, auto: bool) -> SolveResult:
    """Solve from ``x0``; with ``auto`` (rescaled, no start given) the normalized problem first."""
    stages: list[str] = []
    k0, history = 0, History()
    if auto:
        first = _minimise(make("normalized"), x0, _search(make("normalized"), method, memory, xp), xp=xp,
                          tol=None, max_iter=max_iter, callback=callback)
        if first[4] is not Stop.NON_FINITE:
            x0, k0, history = first[0], first[3], first[6]
            stages.append(f"normalized ({first[4].value})")
    obj = make(version)
    parts = _minimise(obj, x0, _search(obj, method, memory, xp), xp=xp, tol=tol, max_iter=max_iter,
                      callback=callback, k0=k0)
    stages.append(version)
    # one entry per iterate: the first stage's last one is the second stage's start (at its own loss)
    parts = (*parts[:3], k0 + parts[3], *parts[4:6], history[:-1] + parts[6], parts[7])
    return _conclude(obj, parts, method, xp=xp, stages=stages)


def _best(results: list[SolveResult]) -> SolveResult:
    """A global minimum first, then a finished run with the lowest normalized loss."""
    def rank(r: SolveResult) -> tuple[bool, bool, float]:
        return (r.point is not Point.GLOBAL_MINIMUM, not r.converged,
                r.info.get("loss_normalized", math.inf) if math.isfinite(r.info.get("loss_normalized", math.inf))
                else math.inf)
    return min(results, key=rank)


def _options(method: str, max_iter: int, tol: float | None, callback: Callback | None, memory: int, restarts: int,
             seed: int) -> tuple[float | None, int, int, int]:
    if method not in METHODS:
        raise ValueError(f"method must be 'lbfgs' or 'newton-cg', got {method!r}")
    check_solver_options(max_iter, tol, callback)
    memory, restarts, seed = (check_int("memory", memory, minimum=1), check_int("restarts", restarts, minimum=0),
                              check_int("seed", seed, minimum=0))
    return None if tol is None else float(tol), memory, restarts, seed


def _restarted(make: MakeObjective, x0: Array, shape: tuple[int], *, version: str, method: str, xp: Namespace,
               tol: float | None, max_iter: int, callback: Callback | None, memory: int, auto: bool, restarts: int,
               seed: int, dev: object, dtype: object) -> SolveResult:
    results = [_run(make, x0, version=version, method=method, xp=xp, tol=tol, max_iter=max_iter, callback=callback,
                    memory=memory, auto=auto)]
    rng = random.Random(seed)
    for _ in range(restarts):
        if results[-1].point is Point.GLOBAL_MINIMUM:
            break
        start = xp.asarray([rng.gauss(0.0, 1.0) for _ in range(shape[0])], dtype=dtype, device=dev)
        results.append(_run(make, start, version=version, method=method, xp=xp, tol=tol, max_iter=max_iter,
                            callback=callback, memory=memory, auto=version == "rescaled"))
    best = _best(results)
    if len(results) > 1:
        best.info["starts"] = len(results)
    return best


def solve(A1: Array, A2: Array, B: Array, X0: Array | None = None, *, version: str, method: str = "newton-cg",
          tol: float | None = None, max_iter: int = 1000, callback: Callback | None = None, memory: int = 10,
          restarts: int = 0, seed: int = 0) -> SolveResult:
    """Minimise the matrix-form loss; ``callback(iteration, loss, grad_norm)`` after each step."""
    version = check_version(version)
    tol, memory, restarts, seed = _options(method, max_iter, tol, callback, memory, restarts, seed)
    auto = X0 is None and version == "rescaled"
    if X0 is None:
        xp, d = namespace(A1=A1), A1.shape[-1] if A1.ndim == 2 else 1
        X0 = xp.zeros((d, d), dtype=A1.dtype, device=device(A1))
    xp, _, d = matrix_problem(A1, A2, X0, B=B)

    def make(v: str) -> Objective:
        return MatrixObjective(A1, A2, B, v, xp)

    return _restarted(make, xp.reshape(X0, (-1,)), (d * d,), version=version, method=method, xp=xp, tol=tol,
                      max_iter=max_iter, callback=callback, memory=memory, auto=auto, restarts=restarts, seed=seed,
                      dev=device(A1), dtype=A1.dtype)


def solve_vector(A: Array, b: Array, x0: Array | None = None, *, version: str, method: str = "newton-cg",
                 tol: float | None = None, max_iter: int = 1000, callback: Callback | None = None,
                 memory: int = 10, restarts: int = 0, seed: int = 0) -> SolveResult:
    """Vector form of :func:`solve` for ``½||f(x) − b||²`` resp. ``½||u(x) − α(x) b||²``."""
    version = check_version(version)
    tol, memory, restarts, seed = _options(method, max_iter, tol, callback, memory, restarts, seed)
    auto = x0 is None and version == "rescaled"
    if x0 is None:
        xp, d = namespace(A=A), A.shape[-1] if A.ndim == 2 else 1
        x0 = xp.zeros((d,), dtype=A.dtype, device=device(A))
    xp, _, d = vector_problem(A, x0, b=b)

    def make(v: str) -> Objective:
        return VectorObjective(A, b, v, xp)

    return _restarted(make, x0, (d,), version=version, method=method, xp=xp, tol=tol, max_iter=max_iter,
                      callback=callback, memory=memory, auto=auto, restarts=restarts, seed=seed, dev=device(A),
                      dtype=A.dtype)
