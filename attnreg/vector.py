r"""Vector form (one softmax row): losses, gradient, Hessian-vector product, Hessian, building blocks.

With ``A ∈ R^{n×d}``, ``b ∈ R^n``, ``x ∈ R^d`` and the paper's letters (DESIGN §2)
``u(x) = exp(Ax)``, ``α(x) = ⟨u(x), 1ₙ⟩``, ``f(x) = α(x)⁻¹ u(x)``, ``c(x) = f(x) − b``,
``h(x) = u(x) − α(x) b``:

* normalized  ``L_N(x) = ½ ||⟨exp(Ax), 1ₙ⟩⁻¹ exp(Ax) − b||² = ½||c||²``,
  ``∇L_N = Aᵀ (diag(f) − f fᵀ) c``;
* rescaled    ``L_R(x) = ½ ||exp(Ax) − ⟨exp(Ax), 1ₙ⟩ b||² = ½||h||²``,
  ``∇L_R = Aᵀ (u∘h − ⟨h, b⟩ u)``.

``h = α c``, so ``L_R = α² L_N``. The matrix form of :mod:`attnreg.matrix` is ``n`` such rows sharing
``x = vec(X)`` with data ``A_[j] = A1[j, :] ⊗ A2``.

>>> import numpy as np
>>> from attnreg import vector
>>> A, b, x = np.eye(3), np.full(3, 1 / 3), np.zeros(3)
>>> float(vector.loss(A, b, x, version="normalized"))
0.0
>>> float(vector.loss(A, b, x, version="rescaled"))      # u = 1, α = 3, h = 1 − 3·(1/3) = 0
0.0
"""
from __future__ import annotations

from . import _rows
from ._sweep import unscale
from ._validate import check_version, vector_problem

__all__ = ["loss", "log_loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "f", "c", "h", "solve"]


def _row(A, x, b, *, xp):
    n = A.shape[0]
    return xp.reshape(A @ x, (1, n)), xp.reshape(b, (1, n))


def _loss_parts(A, b, x, version, xp, with_p):
    S, Bv = _row(A, x, b, xp=xp)
    if version == "normalized":
        rows, P = _rows.normalized(S, Bv, xp=xp, with_p=with_p)
        return rows[0], P, None
    m, rows, P = _rows.rescaled(S, Bv, xp=xp, with_p=with_p)
    return rows[0], P, m[0]


def loss(A, b, x, *, version):
    """The loss (with the ½) as a 0-D array."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    value, _, m = _loss_parts(A, b, x, version, xp, with_p=False)
    return unscale(value, m, xp=xp)


def log_loss(A, b, x, *, version):
    """``log L(x)``, finite where ``L`` over- or underflows (rescaled with large logits)."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    value, _, m = _loss_parts(A, b, x, version, xp, with_p=False)
    return xp.log(value) if m is None else 2 * m + xp.log(value)


def loss_and_grad(A, b, x, *, version):
    """``(L(x), ∇L(x))`` with ``∇L = Aᵀ p``; ``p`` as in the module docstring."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b)
    value, P, m = _loss_parts(A, b, x, version, xp, with_p=True)
    return unscale(value, m, xp=xp), unscale(A.T @ P[0, :], m, xp=xp)


def grad(A, b, x, *, version):
    """``∇L(x)`` (length d)."""
    return loss_and_grad(A, b, x, version=version)[1]


def hvp(A, b, x, v, *, version):
    """``∇²L(x) v = Aᵀ K A v``, ``K`` the Hessian of the loss in the logits ``s = Ax``."""
    version = check_version(version)
    xp, _, _ = vector_problem(A, x, b=b, v=v)
    S, Bv = _row(A, x, b, xp=xp)
    dS = xp.reshape(A @ v, S.shape)
    if version == "normalized":
        return A.T @ _rows.normalized_hvp(S, Bv, dS, xp=xp)[0, :]
    m, dP = _rows.rescaled_hvp(S, Bv, dS, xp=xp)
    return unscale(A.T @ dP[0, :], m[0], xp=xp)


def hessian(A, b, x, *, version, max_entries=2**24):
    """Dense Hessian ``Aᵀ K A`` (d × d); refuses when ``n² > max_entries`` or ``d² > max_entries``."""
    version = check_version(version)
    xp, n, d = vector_problem(A, x, b=b)
    if max(n, d) ** 2 > max_entries:
        raise ValueError(f"the dense Hessian needs an {max(n, d)}^2-entry array, above max_entries = "
                         f"{max_entries}; use attnreg.vector.hvp instead")
    S, Bv = _row(A, x, b, xp=xp)
    m, K = _rows.row_hessians(S, Bv, version=version, xp=xp)
    return unscale(A.T @ K[0, :, :] @ A, None if m is None else m[0], xp=xp)


def u(A, x):
    """``u(x) = exp(Ax)`` (overflows to inf exactly where the true entry exceeds the dtype's range)."""
    xp, _, _ = vector_problem(A, x)
    return xp.exp(A @ x)


def alpha(A, x):
    """``α(x) = ⟨exp(Ax), 1ₙ⟩``, as ``e^c ⟨exp(Ax − c), 1ₙ⟩`` (``c`` from ``_rows.shift``)."""
    xp, _, _ = vector_problem(A, x)
    c, e = _rows.shift(xp.reshape(A @ x, (1, -1)), xp=xp, version="normalized")
    return xp.sum(e) * xp.exp(c[0, 0])


def f(A, x):
    """``f(x) = α(x)⁻¹ exp(Ax)`` (the softmax of ``Ax``; shifted by its maximum where it could overflow)."""
    xp, _, _ = vector_problem(A, x)
    _, e = _rows.shift(xp.reshape(A @ x, (1, -1)), xp=xp, version="normalized")
    return e[0, :] / xp.sum(e)


def c(A, b, x):
    """``c(x) = f(x) − b``, the normalized residual."""
    vector_problem(A, x, b=b)
    return f(A, x) - b


def h(A, b, x):
    """``h(x) = u(x) − α(x) b = α(x) c(x)``, the rescaled residual (finite when representable)."""
    xp, _, _ = vector_problem(A, x, b=b)
    c, e = _rows.shift(xp.reshape(A @ x, (1, -1)), xp=xp, version="normalized")
    return (e[0, :] - xp.sum(e) * b) * xp.exp(c[0, 0])


def solve(A, b, x0=None, *, version, method="newton-cg", tol=None, max_iter=1000, callback=None, memory=10,
          restarts=0, seed=0):
    """Minimise the vector-form loss from ``x0`` (default 0; rescaled: the normalized solution); see
    :func:`attnreg.solve` for the methods, the default start and tolerance, the stop reasons and the kinds
    of point. Returns a :class:`attnreg.SolveResult`."""
    from .solvers import solve_vector  # attnreg.solvers imports this module

    return solve_vector(A, b, x0, version=version, method=method, tol=tol, max_iter=max_iter, callback=callback,
                        memory=memory, restarts=restarts, seed=seed)
