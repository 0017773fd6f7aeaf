r"""Production solvers: L-BFGS and Newton-CG on the attention regression losses, array-API generic.

``solve(A1, A2, B, X0, version=, method="newton-cg" | "lbfgs")`` minimises ``L(X)`` (normalized or
rescaled, with the ½; DESIGN §2) from ``X0`` (default 0) until ``||∇L||_F ≤ tol``, in the dtype and on
the device of the inputs, and returns a
:class:`attnreg.solve_result.SolveResult` (``X`` an array of the input library; ``loss``,
``grad_norm`` and the history in Python floats). Gradients come from :func:`attnreg.loss_and_grad`,
Hessian-vector products from :func:`attnreg.hvp` (exact); the line search enforces the strong Wolfe
conditions (:mod:`._line_search`); the directions are :mod:`._lbfgs` and :mod:`._newton_cg`.

Default tolerance: ``tol = 10⁴·eps·||A1||_F·||A2||_F·κ(X)`` at the current iterate, ``eps`` the dtype's,
``κ = 1`` (normalized) or ``max_j α_j(X)²`` (rescaled). Reason: the gradient is ``A1ᵀ P A2`` and the
rows of ``P`` are bounded (normalized: ``||p_j|| ≤ ½||c_j||``) resp. ``α_j²`` times bounded
(``p_j = α_j² (f∘c − ⟨c, b⟩ f)``), so rounding leaves a gradient floor of at most about ``eps`` times
that scale (measured: 10³–10¹⁰ below it on realisable rescaled problems); the tolerance sits 10⁴ ulps
above it, so it is always reachable. Because it is conservative, with the default the iteration goes on
after ``tol`` is met while ``||∇L||`` still halves every 10 steps (30 for L-BFGS), i.e. to the float floor. A scale
taken from ``||∇L(X0)||`` instead would make the answer depend on the start, and one without ``κ``
would never be met by a rescaled problem with large logits, or be met on the escape ``α → 0`` long
before anything is fitted. An explicit ``tol`` stops as soon as it is met.

Choosing a method. Newton-CG (the default) uses exact Hessian-vector products and converges
quadratically; L-BFGS needs gradients only but crawls on rescaled problems whose ``α_j`` are spread
widely (row j weighs ``α_j²``): at n = 64, d = 8 with logits of size ~10, started near ``X*``, it took
1,774 iterations to reach 2e-5 relative error where Newton-CG took 44 to reach 5e-15. Both are local
methods: the rescaled loss has genuine local minima away from a realisable ``X*`` (from ``X0 = 0``
Newton-CG recovered ``X*`` on 28 of 30 seeds at n = 24, d = 4 with unit-size logits, and on all 30
when started from the normalized solution, a good start for the rescaled problem).

It stops with a reason: converged; ``max_iter``; the line search found no acceptable step (the
float precision floor, typically); ``unbounded`` (the rescaled escape ``α → 0``, ``||X|| → ∞``,
:class:`attnreg.solve_result.Escape`, or any loss flattening out towards an asymptote,
:class:`attnreg.solve_result.Asymptote`); a non-finite loss at ``X0``. The high-precision counterpart is
:func:`attnreg.reference.solve`; ``attnreg verify -k solve`` cross-validates the two.

>>> import numpy as np, attnreg
>>> rng = np.random.default_rng(0)
>>> A1, A2, Xs = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)), rng.standard_normal((2, 2))
>>> r = attnreg.solve(A1, A2, attnreg.f(A1, A2, Xs), version="normalized", method="newton-cg")
>>> r.converged, bool(np.allclose(r.X, Xs, rtol=0, atol=1e-8))
(True, True)
"""
from __future__ import annotations

import math
import warnings

from array_api_compat import device

from . import blocks, matrix, vector
from ._lbfgs import LBFGS, dot, norm
from ._line_search import wolfe
from ._newton_cg import NewtonCG
from ._validate import check_int, check_solver_options, check_version, matrix_problem, namespace, vector_problem
from .solve_result import Asymptote, Escape, SolveResult

METHODS = ("lbfgs", "newton-cg")


def _fro(a, *, xp) -> float:
    return math.sqrt(float(xp.sum(a * a)))


class _Matrix:
    def __init__(self, A1, A2, B, version, xp, d):
        self.A1, self.A2, self.B, self.version, self.xp, self.shape = A1, A2, B, version, xp, (d, d)
        self.norms = _fro(A1, xp=xp) * (1.0 if A2 is None else _fro(A2, xp=xp))

    def scale(self, x):
        """``(||A1||_F ||A2||_F κ(X), escape terms or None)``, see the module docstring."""
        if self.version == "normalized":
            return self.norms, None
        terms = self.escape_terms(x)
        return self.norms * math.exp(min(2 * terms[0], 700.0)), terms  # 700: e^700 is still a float64

    def X(self, x):
        return self.xp.reshape(x, self.shape)

    def flat(self, G):
        return self.xp.reshape(G, (-1,))

    def value_and_grad(self, x):
        loss, G = matrix.loss_and_grad(self.A1, self.A2, self.B, self.X(x), version=self.version)
        return float(loss), self.flat(G)

    def hvp(self, x, v):
        return self.flat(matrix.hvp(self.A1, self.A2, self.B, self.X(x), self.X(v), version=self.version))

    def escape_terms(self, x):
        """``(log max_j α_j, L_N)``: log-sum-exp of each row of the logits, and the normalized loss."""
        lse = blocks.log_alpha(self.A1, self.A2, self.X(x))  # by row blocks: no n × n temporary
        return float(self.xp.max(lse)), float(matrix.loss(self.A1, self.A2, self.B, self.X(x), version="normalized"))


class _Vector(_Matrix):
    def X(self, x):
        return x

    def value_and_grad(self, x):
        loss, g = vector.loss_and_grad(self.A1, self.B, x, version=self.version)
        return float(loss), g

    def hvp(self, x, v):
        return vector.hvp(self.A1, self.B, x, v, version=self.version)

    def escape_terms(self, x):
        s = self.A1 @ x
        m = self.xp.max(s)
        lse = m + self.xp.log(self.xp.sum(self.xp.exp(s - m)))
        return float(lse), float(vector.loss(self.A1, self.B, x, version="normalized"))


def _minimise(obj, x, search, *, xp, tol, max_iter, callback):
    eps = float(xp.finfo(x.dtype).eps)
    rtol = 1e4 * eps  # 10⁴ ulps above the rounding floor of the gradient's scale (module docstring)
    f, g = obj.value_and_grad(x)
    gn = norm(g, xp=xp)
    history, k, reason, steepest, target, polish = [(0, f, gn)], 0, None, False, float("nan"), None
    escape, asymptote = Escape() if obj.version == "rescaled" else None, Asymptote()
    if not (math.isfinite(f) and math.isfinite(gn)):
        reason = ("non-finite: the loss or its gradient at X0 is not finite in this dtype (the rescaled loss "
                  "overflows for large logits); start closer to the data's scale")
    else:
        size, _ = obj.scale(x)
    while reason is None:
        target = rtol * size if tol is None else float(tol)
        if gn <= target:  # converged; with the default tol, polish on while the gradient still halves
            if tol is not None or gn == 0:
                break
            polish = [gn, 0] if polish is None or gn < polish[0] / 2 else [polish[0], polish[1] + 1]
            if polish[1] >= search.patience:
                break
        if k >= max_iter:
            reason = f"max_iter: stopped after max_iter = {max_iter} iterations with ||∇L|| = {gn:.3g}"
            break
        p = -g / gn if steepest else search.direction(x, g)
        d0 = dot(g, p, xp=xp)
        if not d0 < 0:  # not a descent direction (cannot happen in exact arithmetic): fall back
            p, d0 = -g / gn, -gn

        def phi(t, x=x, p=p):
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
            reason = (f"line search failed: no step along −∇L satisfies the Wolfe conditions at ||∇L|| = "
                      f"{gn:.3g} (the {x.dtype} precision floor, typically)")
            break
        _, (x_new, f, g_new) = found
        search.update(x_new - x, g_new - g)
        step = norm(x_new - x, xp=xp)
        x, g, steepest, k = x_new, g_new, False, k + 1
        gn = norm(g, xp=xp)
        history.append((k, f, gn))
        if callback is not None:
            callback(k, f, gn)
        size, terms = obj.scale(x)
        x_norm = norm(x, xp=xp)
        if escape is not None:
            reason = escape.update(x_norm, *terms)
        reason = reason or asymptote.update(x_norm, step, gn, f)
    converged = gn <= target and not (reason or "").startswith(("unbounded", "non-finite"))
    if converged:
        floor = "" if polish is None else f"; polished on to the {x.dtype} precision floor"
        reason = f"converged: ||∇L|| = {gn:.3g} ≤ tol = {target:.3g} after {k} iterations ({search.name}){floor}"
    elif reason is None or not reason.startswith(("unbounded", "non-finite")):
        reason = f"{reason} > tol = {target:.3g}"
    return SolveResult(obj.X(x), f, gn, k, converged, reason, history, search.name, obj.version, dict(tol=target))


def _run(obj, x0, *, method, xp, tol, max_iter, callback, memory):
    if method not in METHODS:
        raise ValueError(f"method must be 'lbfgs' or 'newton-cg', got {method!r}")
    check_solver_options(max_iter, tol, callback)
    memory = check_int("memory", memory, minimum=1)  # L-BFGS pairs kept
    n = x0.shape[0]
    # CG needs at most n = d² products in exact arithmetic; 250 caps the work per step for large d
    search = LBFGS(xp=xp, memory=memory) if method == "lbfgs" else NewtonCG(obj.hvp, xp=xp, max_cg=min(n, 250))
    return _minimise(obj, x0, search, xp=xp, tol=None if tol is None else float(tol), max_iter=max_iter,
                     callback=callback)


def solve(A1, A2, B, X0=None, *, version, method="newton-cg", tol=None, max_iter=1000, callback=None,
          memory=10) -> SolveResult:
    """Minimise the matrix-form loss; ``callback(iteration, loss, grad_norm)`` after each step."""
    version = check_version(version)
    if X0 is None:
        xp, d = namespace(A1=A1), A1.shape[-1] if A1.ndim == 2 else 1
        X0 = xp.zeros((d, d), dtype=A1.dtype, device=device(A1))
    xp, _, d = matrix_problem(A1, A2, X0, B=B)
    obj = _Matrix(A1, A2, B, version, xp, d)
    return _run(obj, obj.flat(X0), method=method, xp=xp, tol=tol, max_iter=max_iter, callback=callback,
                memory=memory)


def solve_vector(A, b, x0=None, *, version, method="newton-cg", tol=None, max_iter=1000, callback=None,
                 memory=10) -> SolveResult:
    """Vector form of :func:`solve` for ``½||f(x) − b||²`` resp. ``½||u(x) − α(x) b||²``."""
    version = check_version(version)
    if x0 is None:
        xp, d = namespace(A=A), A.shape[-1] if A.ndim == 2 else 1
        x0 = xp.zeros((d,), dtype=A.dtype, device=device(A))
    xp, _, _ = vector_problem(A, x0, b=b)
    return _run(_Vector(A, None, b, version, xp, None), x0, method=method, xp=xp, tol=tol, max_iter=max_iter,
                callback=callback, memory=memory)
