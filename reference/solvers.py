r"""Reference solver: damped Newton with the exact Hessian, on a precision ladder (mpmath).

``solve(A1, A2, B, X0, version=, dps=50)`` returns a stationary point of ``L`` with
``||∇L|| ≤ tol`` (default ``10^{−(dps−10)}·||A1||_F||A2||_F·κ(X)``, ``κ = 1`` normalized, ``max_j α_j²``
rescaled: the scale of the gradient's terms, as in :mod:`attnreg.solvers`), as a
:class:`attnreg.solve_result.SolveResult`: ``X`` an ``mpmath.matrix`` carrying the ``dps + 10``
working digits (rounded to ``dps`` digits, ``∇L`` at it would grow to about ``10^{−dps}·||∇²L||``),
``loss`` and ``grad_norm`` re-evaluated at ``X`` correct to ``dps`` digits (adaptive precision,
:func:`.context.evaluate`).

Precision ladder. Newton converges quadratically, so the damped phase runs in a local ``FPContext``
(Python floats, ~15× faster than ``MPContext``), then the precision doubles (30, 60, ... up to
``dps + 10``), one or two Newton steps per level; the last level iterates to its rounding floor, past
the default ``tol``, so ``X`` is accurate to about ``dps`` digits when the minimiser is nondegenerate.
At n = 64, d = 8, 60 digits a Newton step costs 0.36 s (Hessian) + 0.05 s (Cholesky) + 0.08 s per
line-search trial; a whole solve 3–7 s.
The iteration itself is :mod:`.newton`; Hessians come from :mod:`.hessian_lowrank` (checked against
:func:`.forms.matrix_hessian`).

Default start: ``X0 = 0``; for the rescaled version without ``X0`` the normalized problem is solved
first (the whole ladder) and the rescaled one from its solution, as in :func:`attnreg.solve` (both
losses vanish exactly where a realisable B is fitted, and the rescaled one has spurious local minima).

It stops with a typed reason (:class:`attnreg.solve_result.Stop`) instead of iterating blindly:
``max_iter``; ``stalled`` (a failed line search or no progress at the top rung above ``tol``);
``unbounded`` when the rescaled loss is driven to 0 by ``α → 0`` with ``||X|| → ∞``, or part of the
rows are (a partial escape), or the loss flattens out towards an asymptote (the rules of
:mod:`attnreg.stopping`, shared with the production solvers). A converged run says what it found
(:class:`attnreg.solve_result.Point`): a global minimum when the normalized loss is 0 to ``10^{−dps}``
(every row fitted; float64 data that were realisable in float64 leave a loss of ~1e-32, which at 30+
digits is honestly a minimum with a positive loss), else a local minimum, saddle or degenerate point
from the Hessian's eigenvalues at the working precision. A normalized problem with ``A2 w = 1ₙ`` has a family of
minimisers ``X + z wᵀ``; the shift ``μ > 0`` keeps the Newton system solvable on it, and which member
is returned depends on ``X0`` and on the path (compare solutions modulo the family, as
``attnreg verify -k solve.identifiability`` does).

>>> from attnreg import reference
>>> A = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
>>> b = reference.vector.f(A, [0.5, -0.25], dps=60)          # realisable: b = f(x*)
>>> r = reference.vector.solve(A, b, version="normalized", dps=30)
>>> r.converged, reference.make_context(30).nstr(r.X[0], 20)
(True, '0.5')
"""
from __future__ import annotations

from mpmath.ctx_fp import FPContext

from attnreg import stopping
from attnreg._validate import check_solver_options, check_version
from attnreg.solve_result import SolveResult, Stop

from . import forms, hessian_lowrank, newton
from ._inputs import matrix_inputs, run, vector_inputs
from .context import check_dps, make_context, to_matrix
from .norms import l2

GUARD = 10  # working digits above dps
_FP_ERRORS = (OverflowError, ZeroDivisionError, ValueError)  # float range trouble in the FPContext stage


class _Matrix:
    """The objective on flat ``x = vec(X)``; ``data = (A1, A2, B)`` as lists of rows. Same protocol as
    :class:`_Vector` (the vector form), see :mod:`attnreg._objective`."""

    def __init__(self, data, version):
        self.data, self.d, self.version = data, len(data[0][0]), version
        self.rows, self.size = len(data[0]), self.d ** 2

    def at(self, ctx):
        return type(self)([[[ctx.mpf(v) for v in r] for r in M] for M in self.data], self.version)

    def unflat(self, x):
        return [x[i * self.d:(i + 1) * self.d] for i in range(self.d)]

    def loss_and_grad(self, ctx, x):
        loss, G = forms.matrix_loss_and_grad(ctx, *self.data, self.unflat(x), self.version)
        return loss, [v for row in G for v in row]

    def hessian(self, ctx, x):
        return hessian_lowrank.matrix_hessian(ctx, *self.data, self.unflat(x), self.version)

    def scale(self, ctx, x):
        """``||A1||_F ||A2||_F κ``, ``κ = 1`` or ``max_j α_j²`` (rescaled), as in :mod:`attnreg.stopping`."""
        return _scale(ctx, self, self.data[:2], x)

    def row_terms(self, ctx, x):
        """``(log α_j, ℓ^N_j)`` for every row."""
        blocks = forms.matrix_blocks(ctx, self.data[0], self.data[1], self.unflat(x), self.data[2])
        return ([_log(ctx, a) for a in blocks["alpha"]],
                [ctx.fsum(ci * ci for ci in r) / 2 for r in blocks["c"]])


class _Vector:
    """The vector-form objective; ``data = (A, [b])``."""

    def __init__(self, data, version):
        self.data, self.d, self.version = data, len(data[0][0]), version
        self.rows, self.size = 1, self.d

    at = _Matrix.at  # the same conversion to ctx's numbers (no inheritance: the forms share no maths)

    def unflat(self, x):
        return x

    def loss_and_grad(self, ctx, x):
        return forms.vector_loss_and_grad(ctx, self.data[0], self.data[1][0], x, self.version)

    def hessian(self, ctx, x):
        return hessian_lowrank.vector_hessian(ctx, self.data[0], self.data[1][0], x, self.version)

    def scale(self, ctx, x):
        return _scale(ctx, self, self.data[:1], x)

    def row_terms(self, ctx, x):
        blocks = forms.vector_blocks(ctx, self.data[0], x, self.data[1][0])
        return [_log(ctx, blocks["alpha"])], [ctx.fsum(ci * ci for ci in blocks["c"]) / 2]


def _scale(ctx, problem, mats, x):
    norms = ctx.fprod(l2(ctx, M) for M in mats)
    return norms if problem.version == "normalized" else norms * ctx.exp(2 * max(problem.row_terms(ctx, x)[0]))


def _log(ctx, a):
    return ctx.log(a) if a > 0 else float("-inf")


def _ladder(work: int) -> list:
    levels, p = [None], 30
    while p < work:
        levels.append(p)
        p *= 2
    return levels + [work]


def newton_ladder(problem, x0, *, work, tol, max_iter, callback=None, float_only=False):
    """Run the ladder from ``x0`` (a list at ``work`` digits); ``float_only``: the float rung alone.

    Returns ``(x, steps, reason | None, history, ladder)``; ``reason`` is None unless it stopped early,
    else ``(Stop, message)``."""
    top = make_context(work)
    history, ladder, escape, asymptote = [], [], stopping.Escape(), stopping.Asymptote()
    x, steps, theta, reason = x0, 0, 1, None
    for level in [None] if float_only else _ladder(work):
        ctx = FPContext() if level is None else make_context(level)
        final, digits = level == work and not float_only, 15 if level is None else level
        P, taken, slow, ten, it = problem.at(ctx), 0, 0, ctx.mpf(10), None
        try:
            it = newton.at(ctx, P, [ctx.mpf(v) for v in x])
            if not history:
                history.append((0, top.mpf(it.loss), top.mpf(it.grad_norm)))
            while True:
                size = P.scale(ctx, it.x)
                if not final:  # a lower rung: 4 digits short of its precision, then climb
                    target = size * ten ** -(digits - 4)
                else:  # the top rung: an explicit tol, else 8 digits short of the working precision
                    target = size * ten ** -(work - 8) if tol is None else ctx.mpf(tol)
                if it.grad_norm <= target:
                    break
                if steps >= max_iter:
                    reason = (Stop.MAX_ITER, f"stopped after max_iter = {max_iter} Newton steps")
                    break
                new, t, theta = newton.step(ctx, P, it, max(theta, 1e-3))
                if new is None:
                    reason = (Stop.STALLED, f"at {digits} digits: {t}") if final else None
                    break
                local = new.grad_norm <= ctx.sqrt(ctx.eps) * size  # where Newton must converge fast
                slow = slow + 1 if local and new.grad_norm > it.grad_norm / 2 else 0
                step_len = l2(ctx, [a - b for a, b in zip(new.x, it.x)])
                it, steps, taken = new, steps + 1, taken + 1
                history.append((steps, top.mpf(it.loss), top.mpf(it.grad_norm)))
                if callback is not None:
                    callback(steps, it.loss, it.grad_norm)
                norm = l2(ctx, it.x)
                if problem.version == "rescaled":
                    lse, ell = P.row_terms(ctx, it.x)
                    reason = escape.update(norm, max(lse), ctx.fsum(ell))
                reason = reason or asymptote.update(norm, step_len, it.grad_norm, it.loss)
                reason = None if reason is None else (Stop.UNBOUNDED, reason)
                if reason is None and slow >= 3:  # three local steps without halving ||∇L||: rounding floor
                    reason = (Stop.STALLED, f"at {digits} digits: ||∇L|| stopped falling") if final else None
                    break
                if reason is not None:
                    break
        except _FP_ERRORS:  # the float rung overflowed (large logits): go on at the next rung from x
            if level is not None:
                raise
        if it is not None:
            x = [top.mpf(v) for v in it.x]
        ladder.append(("float" if level is None else level, taken))
        if reason is not None:
            break
    return x, steps, reason, history, ladder


def _finish(kind, problem, args, x, steps, reason, history, ladder, tol, dps, version, stages):
    out, keep = make_context(dps), make_context(dps + GUARD)
    xs = [out.mpf(v) for v in x]
    tol = problem.at(out).scale(out, xs) * out.mpf(10) ** -(dps - 10) if tol is None else out.mpf(tol)
    # X keeps the working digits: rounded to dps, ∇L at it would grow to ~10^-dps·||∇²L|| (1e-45 seen).
    X = keep.matrix([[keep.mpf(v) for v in row] for row in problem.unflat(x)]) if kind == "matrix" else \
        keep.matrix([keep.mpf(v) for v in x])
    fn, convert = (forms.matrix_loss_and_grad, matrix_inputs) if kind == "matrix" else \
        (forms.vector_loss_and_grad, vector_inputs)
    loss, grad = run(fn, convert, (*args, X), dps, version)
    grad_norm = l2(out, grad)
    stop, msg = reason if reason is not None else (Stop.CONVERGED, "")
    if stop is Stop.STALLED and grad_norm <= tol:  # stalled at the top rung's rounding floor, below tol
        stop = Stop.CONVERGED
    if stop is Stop.CONVERGED and not grad_norm <= tol:
        stop, msg = Stop.STALLED, "the top rung ended above the tolerance"
    eps, info = out.mpf(10) ** -dps, dict(tol=out.mpf(tol), dps=dps, work_dps=dps + GUARD, ladder=ladder, stages=stages)
    P = problem.at(keep)
    xk = [keep.mpf(v) for v in x]
    lse, ell = P.row_terms(keep, xk)
    lse, ell = [float(v) for v in lse], [float(v) for v in ell]
    info.update(loss_normalized=sum(ell), min_log_alpha=min(lse), max_log_alpha=max(lse))
    if stop is Stop.CONVERGED and version == "rescaled" and problem.rows > 1:
        escaped = stopping.partial_escape(lse, ell, float(eps))
        if escaped:
            stop, msg = Stop.UNBOUNDED, escaped
    eig = None
    if stop is Stop.CONVERGED and problem.size <= MAX_CLASSIFY:
        lam = keep.eigsy(keep.matrix(P.hessian(keep, xk)), eigvals_only=True)
        eig = (float(min(lam)), float(max(lam)))
        info["hessian_eigenvalues"] = eig
    point, what = stopping.classify(stop, loss_normalized=sum(ell), n=problem.rows, eps=float(eps), eigenvalues=eig,
                                    size=problem.size)
    levels = " → ".join("float" if p == "float" else f"{p} digits" for p, _ in ladder)
    if stop is Stop.CONVERGED:
        reason = (f"converged: ||∇L|| = {out.nstr(grad_norm, 3)} ≤ tol = {out.nstr(tol, 3)} after {steps} Newton "
                  f"steps ({' then '.join(stages)}; precision ladder {levels}); {what}")
    else:
        relation = "≤" if grad_norm <= tol else ">"
        reason = f"{stop.value}: {msg}; ||∇L|| = {out.nstr(grad_norm, 3)} {relation} tol = {out.nstr(tol, 3)}"
    history = [(k, out.mpf(v), out.mpf(g)) for k, v, g in history]
    return SolveResult(X, loss, grad_norm, steps, stop is Stop.CONVERGED, reason, history, "reference", version, info,
                       stop, point)


MAX_CLASSIFY = 100  # variables: the Hessian's eigenvalues at working precision are cheap up to here


def _staged(problem, x0, *, version, auto, work, tol, max_iter, callback):
    """The ladder from ``x0``; with ``auto`` (rescaled, no start given) the normalized problem first (its
    solution is the start; the rescaled ladder polishes). The whole ladder, not the float rung alone: a
    start only 1e-4 from X* (an ill-conditioned float solve) let rows of weight below eps stay unfitted."""
    stages, k0, history = [], 0, []
    if auto:
        first = type(problem)(problem.data, "normalized")
        try:
            x, k0, why, history, _ = newton_ladder(first, x0, work=work, tol=None, max_iter=max_iter,
                                                   callback=callback)
            x0 = x
            stages.append(f"normalized ({'converged' if why is None else why[0].value})")
        except _FP_ERRORS:
            k0, history = 0, []
    x, steps, reason, more, ladder = newton_ladder(problem, x0, work=work, tol=tol, max_iter=max_iter,
                                                   callback=callback)
    stages.append(version)
    more = [(k + k0, v, g) for k, v, g in more]
    return x, steps + k0, reason, history[:-1] + more, ladder, stages


def _check(version, max_iter, tol, callback):
    check_version(version)
    check_solver_options(max_iter, tol, callback)


def solve(A1, A2, B, X0=None, *, version, dps=50, tol=None, max_iter=200, callback=None) -> SolveResult:
    """Minimise ``L(X)`` (matrix form) from ``X0`` (default 0) to ``||∇L|| ≤ tol`` at ``dps`` digits.

    ``callback(iteration, loss, grad_norm)`` is called after every accepted Newton step, with numbers of
    the current level of the ladder (Python floats in the float stage, ``mpf`` above it)."""
    _check(version, max_iter, tol, callback)
    auto = X0 is None and version == "rescaled"
    work = check_dps(dps) + GUARD
    ctx = make_context(work)
    d = len(to_matrix(ctx, "A1", A1, (None, None))[0])
    A1, A2, B, X0 = matrix_inputs(ctx, A1, A2, B, [[0.0] * d] * d if X0 is None else X0)
    problem = _Matrix((A1, A2, B), version)
    parts = _staged(problem, [v for r in X0 for v in r], version=version, auto=auto, work=work, tol=tol,
                    max_iter=max_iter, callback=callback)
    return _finish("matrix", problem, (A1, A2, B), *parts[:5], tol, dps, version, parts[5])


def solve_vector(A, b, x0=None, *, version, dps=50, tol=None, max_iter=200, callback=None) -> SolveResult:
    """Vector form of :func:`solve` (``attnreg.reference.vector.solve``); ``X`` is a d × 1 matrix."""
    _check(version, max_iter, tol, callback)
    auto = x0 is None and version == "rescaled"
    work = check_dps(dps) + GUARD
    ctx = make_context(work)
    d = len(to_matrix(ctx, "A", A, (None, None))[0])
    A, b, x0 = vector_inputs(ctx, A, b, [0.0] * d if x0 is None else x0)
    problem = _Vector((A, [b]), version)
    parts = _staged(problem, x0, version=version, auto=auto, work=work, tol=tol, max_iter=max_iter,
                    callback=callback)
    return _finish("vector", problem, (A, b), *parts[:5], tol, dps, version, parts[5])
