"""High-precision reference path, vector form (one softmax row); see :mod:`attnreg.vector`.

Same conventions as the matrix form in :mod:`attnreg.reference`: ``dps`` digits (default 50),
exact float inputs, results verified by re-running at higher precision.
"""
from __future__ import annotations

from . import forms
from ._inputs import run, vector_inputs
from .solvers import solve_vector as solve

__all__ = ["loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "f", "c", "h", "solve"]


def loss(A, b, x, *, version, dps=50):
    """``L(x)`` (with the ½) as an mpf."""
    return run(forms.vector_loss, vector_inputs, (A, b, x), dps, version)


def loss_and_grad(A, b, x, *, version, dps=50):
    """``(L(x), ∇L(x))``; the gradient is a d × 1 ``mpmath.matrix``."""
    return run(forms.vector_loss_and_grad, vector_inputs, (A, b, x), dps, version)


def grad(A, b, x, *, version, dps=50):
    """``∇L(x)`` (d × 1)."""
    return loss_and_grad(A, b, x, version=version, dps=dps)[1]


def hvp(A, b, x, v, *, version, dps=50):
    """``∇²L(x) v`` (d × 1)."""
    return run(forms.vector_hvp, vector_inputs, (A, b, x, v), dps, version)


def hessian(A, b, x, *, version, dps=50):
    """``∇²L(x) = Aᵀ K A`` (d × d)."""
    return run(forms.vector_hessian, vector_inputs, (A, b, x), dps, version)


def _blocks(name, A, b, x, dps):
    return run(lambda ctx, A, b, x: forms.vector_blocks(ctx, A, x, b)[name], vector_inputs, (A, b, x), dps)


def u(A, x, *, dps=50):
    """``exp(Ax)`` (n × 1)."""
    return _blocks("u", A, None, x, dps)


def alpha(A, x, *, dps=50):
    """``⟨exp(Ax), 1ₙ⟩``."""
    return _blocks("alpha", A, None, x, dps)


def f(A, x, *, dps=50):
    """``α(x)⁻¹ exp(Ax)`` (n × 1)."""
    return _blocks("f", A, None, x, dps)


def c(A, b, x, *, dps=50):
    """``f(x) − b`` (n × 1)."""
    return _blocks("c", A, b, x, dps)


def h(A, b, x, *, dps=50):
    """``u(x) − α(x) b`` (n × 1)."""
    return _blocks("h", A, b, x, dps)
