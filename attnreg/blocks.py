r"""The paper's building blocks in matrix form, row by row (docs/design.md §2).

Row j of each n × n result is the vector-form block of :mod:`attnreg.vector` for the data
``A_[j] = A1[j, :] ⊗ A2`` and ``x = vec(X)``, i.e. for the logits ``s_j = (A1 X A2ᵀ)[j, :]``:

* ``u(X) = exp(A1 X A2ᵀ)``                    (n × n)
* ``alpha(X) = exp(A1 X A2ᵀ) 1ₙ``             (n,)   the diagonal of ``D(X)`` (``log_alpha``: its log)
* ``f(X) = D(X)⁻¹ exp(A1 X A2ᵀ)``              (n × n) row softmax
* ``c(X) = f(X) − B``                          (n × n) normalized residual
* ``h(X) = exp(A1 X A2ᵀ) − D(X) B = D(X) c(X)`` (n × n) rescaled residual

Every block is called like the losses, ``(A1, A2, B, X)``; ``u``, ``alpha``, ``log_alpha`` and ``f`` do not use
the target ``B`` (it is validated when given) and may also be called without it, ``(A1, A2, X)``.

The n × n blocks return full n × n matrices (they are the outputs); ``alpha`` and ``log_alpha`` work
by blocks of rows, and the losses in :mod:`attnreg.matrix` never form an n × n matrix.
"""
from __future__ import annotations

from ._rows import _rescaled_parts, shift
from ._scale import loo, times_exp
from ._sweep import row_blocks
from ._types import Array, Namespace
from ._validate import check_block_rows, matrix_problem, omitted_b, target_optional

__all__ = ["u", "alpha", "log_alpha", "f", "c", "h"]


def softmax_rows(S: Array, *, xp: Namespace) -> Array:
    """Row softmax of the k × n logits ``S``, shifted by the row maximum where entries could overflow."""
    _, E = shift(S, xp=xp, version="normalized")
    return E / xp.sum(E, axis=1, keepdims=True)


def row_sums(S: Array, *, xp: Namespace, log: bool = False) -> Array:
    """``α_j = Σ_k e^{S_jk}`` as ``e^{c_j} Σ_k e^{S_jk − c_j}``, or ``log α_j = m_j + log1p(Σ_{k≠k*} e^{S_jk − m_j})``
    (``m_j`` the row maximum at ``k*``: accurate also when ``α_j = 1 + 10⁻¹⁸``)."""
    if log:
        m = xp.max(S, axis=1, keepdims=True)
        rest = xp.min(loo(xp.exp(S - m), xp=xp), axis=1)  # the leave-one-out sum at an argmax
        return m[:, 0] + xp.log1p(rest)
    c, E = shift(S, xp=xp, version="normalized")
    return times_exp(xp.sum(E, axis=1, keepdims=True), c, xp=xp)[:, 0]


def residual_rows(S: Array, B: Array, *, version: str, xp: Namespace) -> Array:
    """``C = F − B`` or ``H = U − D B`` for the k × n logits ``S``, entrywise without cancellation:
    ``c_i = (u_i(1 − b_i) − b_i R_i)/α`` and ``h_i = u_i(1 − b_i) − b_i R_i``, ``R_i = Σ_{j≠i} u_j``.
    ``h`` carries each term at its own scale (``u_i = e^{s_i}``, ``R_i`` scaled by the largest logit
    among ``j ≠ i``), so an entry is finite and accurate whenever it is representable."""
    if version == "normalized":
        _, E = shift(S, xp=xp, version="normalized")
        return (E * (1 - B) - B * loo(E, xp=xp)) / xp.sum(E, axis=1, keepdims=True)
    q = _rescaled_parts(S, B, xp=xp, scale_b=False)
    return times_exp(q["hh"], q["k"], xp=xp)


def _logits(A1: Array, A2: Array, X: Array, B: Array | None = None, uses_b: bool = True) -> tuple[Namespace, Array]:
    xp, _, _ = matrix_problem(A1, A2, X, B=B, uses_b=uses_b)
    return xp, A1 @ (X @ A2.T)


@target_optional(2)
def u(A1: Array, A2: Array, B: Array | None = None, X: Array | None = None) -> Array:
    """``exp(A1 X A2ᵀ)`` entrywise (inf exactly where the true entry exceeds the dtype's range)."""
    B, X = omitted_b(B, X)
    xp, S = _logits(A1, A2, X, B=B, uses_b=False)
    return xp.exp(S)


@target_optional(2)
def alpha(A1: Array, A2: Array, B: Array | None = None, X: Array | None = None, *,
          block_rows: int | None = None) -> Array:
    """Row sums ``α_j = ⟨exp(s_j), 1ₙ⟩``, as ``e^{c_j}⟨exp(s_j − c_j), 1ₙ⟩`` (``c_j`` the row maximum where
    entries could over- or underflow), by blocks of rows (memory O(block_rows·n))."""
    B, X = omitted_b(B, X)
    return _row_sums(A1, A2, B, X, block_rows, log=False)


@target_optional(2)
def log_alpha(A1: Array, A2: Array, B: Array | None = None, X: Array | None = None, *,
              block_rows: int | None = None) -> Array:
    """``log α_j`` for every row (log-sum-exp of the logits), finite for any logits, by blocks of rows."""
    B, X = omitted_b(B, X)
    return _row_sums(A1, A2, B, X, block_rows, log=True)


def _row_sums(A1: Array, A2: Array, B: Array | None, X: Array, block_rows: int | None, *, log: bool) -> Array:
    xp, n, _ = matrix_problem(A1, A2, X, B=B, uses_b=False)
    block, W, parts = check_block_rows(block_rows, n), X @ A2.T, list[Array]()
    for rows in row_blocks(n, block):
        parts.append(row_sums(A1[rows, :] @ W, xp=xp, log=log))
    return xp.concat(parts) if len(parts) > 1 else parts[0]


@target_optional(2)
def f(A1: Array, A2: Array, B: Array | None = None, X: Array | None = None) -> Array:
    """Row softmax ``D(X)⁻¹ exp(A1 X A2ᵀ)``; rows that could overflow are shifted by their maximum."""
    B, X = omitted_b(B, X)
    xp, S = _logits(A1, A2, X, B=B, uses_b=False)
    return softmax_rows(S, xp=xp)


def c(A1: Array, A2: Array, B: Array, X: Array) -> Array:
    """``f(X) − B``, entrywise as ``(u(1 − b) − b(α − u))/α`` (see :func:`residual_rows`)."""
    xp, S = _logits(A1, A2, X, B=B)
    return residual_rows(S, B, version="normalized", xp=xp)


def h(A1: Array, A2: Array, B: Array, X: Array) -> Array:
    """``exp(A1 X A2ᵀ) − D(X) B``, finite and accurate wherever the entry is representable
    (see :func:`residual_rows`)."""
    xp, S = _logits(A1, A2, X, B=B)
    return residual_rows(S, B, version="rescaled", xp=xp)
