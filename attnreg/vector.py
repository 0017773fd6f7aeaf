r"""Vector form (one softmax row): losses, gradient, Hessian-vector product, Hessian, building blocks, solver.

With ``A ∈ R^{n×d}``, ``b ∈ R^n``, ``x ∈ R^d`` and the paper's letters (docs/design.md §2)
``u(x) = exp(Ax)``, ``α(x) = ⟨u(x), 1ₙ⟩``, ``f(x) = α(x)⁻¹ u(x)``, ``c(x) = f(x) − b``,
``h(x) = u(x) − α(x) b``; ``L_N = ½||c||²``, ``L_R = ½||h||² = α² L_N``. The numerics live in
``attnreg._vector`` (which the solvers' objective uses), the solver in :mod:`attnreg.solvers`; this module
is the public face of both.

>>> import numpy as np
>>> from attnreg import vector
>>> A, b, x = np.eye(4), np.full(4, 0.25), np.zeros(4)
>>> float(vector.loss(A, b, x, version="normalized"))
0.0
"""
from __future__ import annotations

from ._vector import alpha, c, f, grad, h, hessian, hvp, log_loss, loss, loss_and_grad, u
from .solve_result import SolveResult
from .solvers import solve_vector

__all__ = ["loss", "log_loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "f", "c", "h", "solve"]


def solve(A, b, x0=None, *, version, method="newton-cg", tol=None, max_iter=1000, callback=None, memory=10,
          restarts=0, seed=0) -> SolveResult:
    """Minimise the vector-form loss from ``x0`` (default 0; rescaled: the normalized solution); see
    :func:`attnreg.solve` for the methods, the default start and tolerance, the stop reasons and the kinds
    of point. Returns a :class:`attnreg.SolveResult`."""
    return solve_vector(A, b, x0, version=version, method=method, tol=tol, max_iter=max_iter, callback=callback,
                        memory=memory, restarts=restarts, seed=seed)
