r"""The paper's building blocks in matrix form, row by row (DESIGN §2).

Row j of each n × n result is the vector-form block of :mod:`attnreg.vector` for the data
``A_[j] = A1[j, :] ⊗ A2`` and ``x = vec(X)``, i.e. for the logits ``s_j = (A1 X A2ᵀ)[j, :]``:

* ``u(X) = exp(A1 X A2ᵀ)``                    (n × n)
* ``alpha(X) = exp(A1 X A2ᵀ) 1ₙ``             (n,)   the diagonal of ``D(X)`` (``log_alpha``: its log)
* ``f(X) = D(X)⁻¹ exp(A1 X A2ᵀ)``              (n × n) row softmax
* ``c(X) = f(X) − B``                          (n × n) normalized residual
* ``h(X) = exp(A1 X A2ᵀ) − D(X) B = D(X) c(X)`` (n × n) rescaled residual

The n × n blocks return full n × n matrices (they are the outputs); ``alpha`` and ``log_alpha`` work
by blocks of rows, and the losses in :mod:`attnreg.matrix` never form an n × n matrix.
"""
from __future__ import annotations

from ._rows import shift
from ._validate import check_block_rows, matrix_problem

__all__ = ["u", "alpha", "log_alpha", "f", "c", "h"]


def _logits(A1, A2, X, B=None):
    xp, _, _ = matrix_problem(A1, A2, X, B=B)
    return xp, A1 @ (X @ A2.T)


def u(A1, A2, X):
    """``exp(A1 X A2ᵀ)`` entrywise (inf exactly where the true entry exceeds the dtype's range)."""
    xp, S = _logits(A1, A2, X)
    return xp.exp(S)


def alpha(A1, A2, X, *, block_rows=None):
    """Row sums ``α_j = ⟨exp(s_j), 1ₙ⟩``, as ``e^{c_j}⟨exp(s_j − c_j), 1ₙ⟩`` (``c_j`` from ``_rows.shift``),
    by blocks of rows (memory O(block_rows·n))."""
    return _row_sums(A1, A2, X, block_rows, log=False)


def log_alpha(A1, A2, X, *, block_rows=None):
    """``log α_j`` for every row (log-sum-exp of the logits), finite for any logits, by blocks of rows."""
    return _row_sums(A1, A2, X, block_rows, log=True)


def _row_sums(A1, A2, X, block_rows, *, log):
    xp, n, _ = matrix_problem(A1, A2, X)
    block, W, parts = check_block_rows(block_rows, n), X @ A2.T, []
    for start in range(0, n, block):
        S = A1[start:min(start + block, n), :] @ W
        c, E = shift(S, xp=xp, version="normalized")
        total = xp.sum(E, axis=1, keepdims=True)
        parts.append((c + xp.log(total) if log else total * xp.exp(c))[:, 0])
    return xp.concat(parts) if len(parts) > 1 else parts[0]


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
