"""High-precision reference path with proven digits, vector form (one softmax row); see :mod:`attnreg.vector`.

Same conventions as the matrix form in :mod:`attnreg.reference`: ``dps`` proven digits (default 50),
exact float inputs, ``record=True`` for the :class:`.balls.Certified` record (error bounds, unresolved
zeros). The mpmath second implementation is :mod:`.forms` (``vector_*``).
"""
from __future__ import annotations

from attnreg._validate import omitted_b

from . import ball_forms
from ._inputs import log_of, proven, require, vector_inputs
from .solvers import solve_vector as solve

__all__ = ["loss", "log_loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "f", "c", "h", "solve"]


def loss(A, b, x, *, version, dps=50, record=False):
    """``L(x)`` (with the ½) as an mpf."""
    require(A=A, b=b, x=x)
    return proven(ball_forms.vector_loss, vector_inputs, (A, b, x), dps, version, record)


def log_loss(A, b, x, *, version, dps=50, record=False):
    """``log L(x)`` (``-inf`` for an exact 0; see :func:`attnreg.reference.log_loss`)."""
    require(A=A, b=b, x=x)
    return log_of(loss, ball_forms.vector_loss, vector_inputs, (A, b, x), dps, version, record)


def loss_and_grad(A, b, x, *, version, dps=50, record=False):
    """``(L(x), ∇L(x))``; the gradient is a d × 1 ``mpmath.matrix``."""
    require(A=A, b=b, x=x)
    return proven(ball_forms.vector_loss_and_grad, vector_inputs, (A, b, x), dps, version, record)


def grad(A, b, x, *, version, dps=50, record=False):
    """``∇L(x)`` (d × 1)."""
    require(A=A, b=b, x=x)
    return proven(lambda *a: ball_forms.vector_loss_and_grad(*a)[1], vector_inputs, (A, b, x), dps, version, record)


def hvp(A, b, x, v, *, version, dps=50, record=False):
    """``∇²L(x) v`` (d × 1)."""
    require(A=A, b=b, x=x, v=v)
    return proven(ball_forms.vector_hvp, vector_inputs, (A, b, x, v), dps, version, record, deep=True)


def hessian(A, b, x, *, version, dps=50, record=False):
    """``∇²L(x) = Aᵀ K A`` (d × d)."""
    require(A=A, b=b, x=x)
    return proven(ball_forms.vector_hessian, vector_inputs, (A, b, x), dps, version, record, deep=True)


def _blocks(name, A, b, x, dps, record):
    return proven(lambda A, b, x: ball_forms.vector_blocks(A, x, b)[name], vector_inputs, (A, b, x), dps,
                  record=record)


def u(A, b=None, x=None, *, dps=50, record=False):
    """``exp(Ax)`` (n × 1)."""
    b, x = omitted_b(b, x, "x")
    require(A=A, x=x)
    return _blocks("u", A, b, x, dps, record)


def alpha(A, b=None, x=None, *, dps=50, record=False):
    """``⟨exp(Ax), 1ₙ⟩``."""
    b, x = omitted_b(b, x, "x")
    require(A=A, x=x)
    return _blocks("alpha", A, b, x, dps, record)


def f(A, b=None, x=None, *, dps=50, record=False):
    """``α(x)⁻¹ exp(Ax)`` (n × 1)."""
    b, x = omitted_b(b, x, "x")
    require(A=A, x=x)
    return _blocks("f", A, b, x, dps, record)


def c(A, b, x, *, dps=50, record=False):
    """``f(x) − b`` (n × 1)."""
    require(A=A, b=b, x=x)
    return _blocks("c", A, b, x, dps, record)


def h(A, b, x, *, dps=50, record=False):
    """``u(x) − α(x) b`` (n × 1)."""
    require(A=A, b=b, x=x)
    return _blocks("h", A, b, x, dps, record)
