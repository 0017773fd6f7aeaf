"""High-precision reference path with proven digits, matrix form; the vector form is :mod:`.vector`.

Every public function takes the inputs of the production function of the same name plus ``dps``
(decimal digits, default 50, between 15 and 10000) and returns mpmath numbers or matrices whose
``dps`` digits are *proven*: the value is evaluated in ball arithmetic (python-flint ``arb``,
:mod:`.ball_forms`) and the working precision is raised until every ball is narrower than
``10^{−dps}`` of its value (:mod:`.balls`). An entry that is exactly 0 comes back as an exact 0; an
entry that cannot be told apart from 0 even at ``dps + max(8·dps, 1000)`` working digits (a value
below ``10^{−dps}`` of the terms that cancel in it) comes back as 0 too, never with invented digits.
Pass ``record=True`` to get a :class:`.balls.Certified` instead of the value: the same value plus the
proven error bound of every entry, the positions of the unresolved zeros, and the working precision.

Float inputs (float64, float32, ints, mpf) convert exactly; decimal strings (``"0.1"``) and fractions
become balls that contain them. Results live in a fresh local ``mpmath.MPContext`` of ``dps`` digits;
nothing touches the global ``mpmath.mp``.

The mpmath algorithms of :mod:`.forms` and :mod:`.rows` (``ctx``-first, any local ``MPContext``) are
kept as the independent second implementation; ``attnreg verify`` cross-checks the two
(``ref.arb_vs_mpmath.*``).

>>> from attnreg import reference
>>> A1 = A2 = [[1.0], [2.0]]; B = [["0.5", "0.5"], ["0.5", "0.5"]]
>>> print(reference.loss(A1, A2, B, [[0.0]], version="normalized", dps=30))
0.0
>>> r = reference.loss(A1, A2, B, [[0.0]], version="normalized", dps=30, record=True)
>>> r.radius == 0, r.unresolved  # an exact zero, proven
(True, ())
"""
from __future__ import annotations

from attnreg._validate import omitted_b

from . import ball_forms, balls, forms, rows, vector
from ._inputs import log_of, matrix_inputs, proven, require
from .balls import Certified
from .context import evaluate, make_context
from .solvers import solve

__all__ = ["loss", "log_loss", "grad", "loss_and_grad", "hvp", "hessian", "u", "alpha", "log_alpha", "f", "c", "h",
           "Certified",
           "vector", "forms", "rows", "ball_forms", "balls", "evaluate", "make_context", "solve", "icl"]


def loss(A1, A2, B, X, *, version, dps=50, record=False):
    """``L(X)`` (with the ½) as an mpf with ``dps`` proven digits."""
    require(A1=A1, A2=A2, B=B, X=X)
    return proven(ball_forms.matrix_loss, matrix_inputs, (A1, A2, B, X), dps, version, record)


def log_loss(A1, A2, B, X, *, version, dps=50, record=False):
    """``log L(X)`` with ``dps`` proven digits (``-inf`` for a loss that is exactly 0; a loss the balls
    cannot separate from 0 raises ``ArithmeticError`` with its proven bound)."""
    require(A1=A1, A2=A2, B=B, X=X)
    return log_of(loss, ball_forms.matrix_loss, matrix_inputs, (A1, A2, B, X), dps, version, record)


def loss_and_grad(A1, A2, B, X, *, version, dps=50, record=False):
    """``(L(X), ∇_X L(X))``; the gradient is a d × d ``mpmath.matrix``."""
    require(A1=A1, A2=A2, B=B, X=X)
    return proven(ball_forms.matrix_loss_and_grad, matrix_inputs, (A1, A2, B, X), dps, version, record)


def grad(A1, A2, B, X, *, version, dps=50, record=False):
    """``∇_X L(X) = A1ᵀ P A2`` as a d × d ``mpmath.matrix``."""
    require(A1=A1, A2=A2, B=B, X=X)
    out = proven(lambda *a: ball_forms.matrix_loss_and_grad(*a)[1], matrix_inputs, (A1, A2, B, X), dps, version,
                 record)
    return out


def hvp(A1, A2, B, X, V, *, version, dps=50, record=False):
    """``∇²L(X)[V]`` as a d × d ``mpmath.matrix``."""
    require(A1=A1, A2=A2, B=B, X=X, V=V)
    return proven(ball_forms.matrix_hvp, matrix_inputs, (A1, A2, B, X, V), dps, version, record, deep=True)


def hessian(A1, A2, B, X, *, version, dps=50, record=False):
    """The d² × d² Hessian in row-major ``vec(X)`` as an ``mpmath.matrix``."""
    require(A1=A1, A2=A2, B=B, X=X)
    return proven(ball_forms.matrix_hessian, matrix_inputs, (A1, A2, B, X), dps, version, record, deep=True)


def _blocks(name, A1, A2, B, X, dps, record):
    return proven(lambda A1, A2, B, X: ball_forms.matrix_blocks(A1, A2, X, B)[name],
                  matrix_inputs, (A1, A2, B, X), dps, record=record)


def u(A1, A2, B=None, X=None, *, dps=50, record=False):
    """``exp(A1 X A2ᵀ)`` (n × n)."""
    B, X = omitted_b(B, X)
    require(A1=A1, A2=A2, X=X)
    return _blocks("u", A1, A2, B, X, dps, record)


def alpha(A1, A2, B=None, X=None, *, dps=50, record=False):
    """Row sums ``α_j`` of ``exp(A1 X A2ᵀ)`` (n × 1)."""
    B, X = omitted_b(B, X)
    require(A1=A1, A2=A2, X=X)
    return _blocks("alpha", A1, A2, B, X, dps, record)


def log_alpha(A1, A2, B=None, X=None, *, dps=50, record=False):
    """``log α_j`` of every row (n × 1), for logits of any size."""
    B, X = omitted_b(B, X)
    require(A1=A1, A2=A2, X=X)
    return proven(lambda A1, A2, B, X: ball_forms.matrix_log_alpha(A1, A2, X), matrix_inputs, (A1, A2, B, X),
                  dps, record=record)


def f(A1, A2, B=None, X=None, *, dps=50, record=False):
    """Row softmax ``D(X)⁻¹ exp(A1 X A2ᵀ)`` (n × n)."""
    B, X = omitted_b(B, X)
    require(A1=A1, A2=A2, X=X)
    return _blocks("f", A1, A2, B, X, dps, record)


def c(A1, A2, B, X, *, dps=50, record=False):
    """``f(X) − B`` (n × n)."""
    require(A1=A1, A2=A2, B=B, X=X)
    return _blocks("c", A1, A2, B, X, dps, record)


def h(A1, A2, B, X, *, dps=50, record=False):
    """``exp(A1 X A2ᵀ) − D(X) B`` (n × n)."""
    require(A1=A1, A2=A2, B=B, X=X)
    return _blocks("h", A1, A2, B, X, dps, record)


from . import icl  # noqa: E402  (built on the functions above)
