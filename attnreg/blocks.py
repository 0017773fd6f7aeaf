r"""The paper's building blocks in matrix form, row by row (DESIGN §2).

Row j of each n × n result is the vector-form block of :mod:`attnreg.vector` for the data
``A_[j] = A1[j, :] ⊗ A2`` and ``x = vec(X)``, i.e. for the logits ``s_j = (A1 X A2ᵀ)[j, :]``:

* ``u(X) = exp(A1 X A2ᵀ)``                    (n × n)
* ``alpha(X) = exp(A1 X A2ᵀ) 1ₙ``             (n,)   the diagonal of ``D(X)``
* ``f(X) = D(X)⁻¹ exp(A1 X A2ᵀ)``              (n × n) row softmax
* ``c(X) = f(X) − B``                          (n × n) normalized residual
* ``h(X) = exp(A1 X A2ᵀ) − D(X) B = D(X) c(X)`` (n × n) rescaled residual

These return the full n × n matrices (they are the outputs); the losses in :mod:`attnreg.matrix` never
form them.
"""
from __future__ import annotations

from ._rows import shift
from ._validate import matrix_problem

__all__ = ["u", "alpha", "f", "c", "h"]


def _logits(A1, A2, X, B=None):
    xp, _, _ = matrix_problem(A1, A2, X, B=B)
    return xp, A1 @ (X @ A2.T)


def u(A1, A2, X):
    """``exp(A1 X A2ᵀ)`` entrywise (inf exactly where the true entry exceeds the dtype's range)."""
    xp, S = _logits(A1, A2, X)
    return xp.exp(S)


def alpha(A1, A2, X):
    """Row sums ``α_j = ⟨exp(s_j), 1ₙ⟩``, as ``e^{c_j}⟨exp(s_j − c_j), 1ₙ⟩`` (``c_j`` from ``_rows.shift``)."""
    xp, S = _logits(A1, A2, X)
    c, E = shift(S, xp=xp, version="normalized")
    return (xp.sum(E, axis=1, keepdims=True) * xp.exp(c))[:, 0]


def f(A1, A2, X):
    """Row softmax ``D(X)⁻¹ exp(A1 X A2ᵀ)``; rows that could overflow are shifted by their maximum."""
    xp, S = _logits(A1, A2, X)
    _, E = shift(S, xp=xp, version="normalized")
    return E / xp.sum(E, axis=1, keepdims=True)


def c(A1, A2, B, X):
    """``f(X) − B``."""
    matrix_problem(A1, A2, X, B=B)
    return f(A1, A2, X) - B


def h(A1, A2, B, X):
    """``exp(A1 X A2ᵀ) − D(X) B``, row j computed as ``e^{c_j}(exp(s_j − c_j) − α̃_j b_j)``."""
    xp, S = _logits(A1, A2, X, B=B)
    c, E = shift(S, xp=xp, version="normalized")
    return (E - xp.sum(E, axis=1, keepdims=True) * B) * xp.exp(c)
