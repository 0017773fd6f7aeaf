"""High-precision reference path (mpmath), matrix form; the vector form is :mod:`.vector`.

Every public function takes the inputs of the production function of the same name plus ``dps``
(decimal digits, default 50) and returns mpmath numbers or matrices correct to ``dps`` digits: the
computation runs with guard digits and is repeated at higher precision until two runs agree
(:func:`.context.evaluate`). Float inputs convert exactly; decimal strings (``"0.1"``) and fractions
are read at the working precision. The algorithms are ``ctx``-first functions in :mod:`.forms` and
:mod:`.rows`, usable with any local ``mpmath.MPContext``; nothing touches the global ``mpmath.mp``.

>>> from attnreg import reference
>>> A1 = A2 = [[1.0], [2.0]]; B = [["0.5", "0.5"], ["0.5", "0.5"]]
>>> print(reference.loss(A1, A2, B, [[0.0]], version="normalized", dps=30))
0.0
"""
from __future__ import annotations

from . import forms, rows, vector
from ._inputs import matrix_inputs, run
from .context import evaluate, make_context
from .solvers import solve

__all__ = ["loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "f", "c", "h",
           "vector", "forms", "rows", "evaluate", "make_context", "solve", "icl"]


def loss(A1, A2, B, X, *, version, dps=50):
    """``L(X)`` (with the ½) as an mpf correct to ``dps`` digits."""
    return run(forms.matrix_loss, matrix_inputs, (A1, A2, B, X), dps, version)


def loss_and_grad(A1, A2, B, X, *, version, dps=50):
    """``(L(X), ∇_X L(X))``; the gradient is a d × d ``mpmath.matrix``."""
    return run(forms.matrix_loss_and_grad, matrix_inputs, (A1, A2, B, X), dps, version)


def grad(A1, A2, B, X, *, version, dps=50):
    """``∇_X L(X) = A1ᵀ P A2`` as a d × d ``mpmath.matrix``."""
    return loss_and_grad(A1, A2, B, X, version=version, dps=dps)[1]


def hvp(A1, A2, B, X, V, *, version, dps=50):
    """``∇²L(X)[V]`` as a d × d ``mpmath.matrix``."""
    return run(forms.matrix_hvp, matrix_inputs, (A1, A2, B, X, V), dps, version)


def hessian(A1, A2, B, X, *, version, dps=50):
    """The d² × d² Hessian in row-major ``vec(X)`` as an ``mpmath.matrix``."""
    return run(forms.matrix_hessian, matrix_inputs, (A1, A2, B, X), dps, version)


def _blocks(name, A1, A2, B, X, dps):
    return run(lambda ctx, A1, A2, B, X: forms.matrix_blocks(ctx, A1, A2, X, B)[name],
               matrix_inputs, (A1, A2, B, X), dps)


def u(A1, A2, X, *, dps=50):
    """``exp(A1 X A2ᵀ)`` (n × n)."""
    return _blocks("u", A1, A2, None, X, dps)


def alpha(A1, A2, X, *, dps=50):
    """Row sums ``α_j`` of ``exp(A1 X A2ᵀ)`` (n × 1)."""
    return _blocks("alpha", A1, A2, None, X, dps)


def f(A1, A2, X, *, dps=50):
    """Row softmax ``D(X)⁻¹ exp(A1 X A2ᵀ)`` (n × n)."""
    return _blocks("f", A1, A2, None, X, dps)


def c(A1, A2, B, X, *, dps=50):
    """``f(X) − B`` (n × n)."""
    return _blocks("c", A1, A2, B, X, dps)


def h(A1, A2, B, X, *, dps=50):
    """``exp(A1 X A2ᵀ) − D(X) B`` (n × n)."""
    return _blocks("h", A1, A2, B, X, dps)


from . import icl  # noqa: E402  (built on the functions above)
