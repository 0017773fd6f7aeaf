r"""The tensor trick: ``vec``, ``unvec`` and a matrix-free ``A1 ⊗ A2``.

Row-major vec (our convention, docs/design.md §2): ``x[i·d2 + k] = X[i, k]``. Then

    vec_row(A1 X A2ᵀ) = (A1 ⊗ A2) vec_row(X),      vec_col(A1 X A2ᵀ) = (A2 ⊗ A1) vec_col(X),

and block j of ``A1 ⊗ A2`` (rows ``j·n2 … j·n2 + n2 − 1``) is ``A1[j, :] ⊗ A2``, which gives row j of
``A1 X A2ᵀ``. Mixing column-major vec with ``A1 ⊗ A2`` is wrong (a classic silent bug), so the order
is an explicit parameter everywhere.

>>> import numpy as np
>>> from attnreg import kron_operator, vec, unvec
>>> A1, A2, X = np.arange(6.).reshape(3, 2), np.arange(4.).reshape(2, 2), np.eye(2)
>>> K = kron_operator(A1, A2)                  # order="row": represents A1 ⊗ A2
>>> bool(np.allclose(K.matvec(vec(X)), vec(A1 @ X @ A2.T)))
True
>>> bool(np.array_equal(K.dense(), np.kron(A1, A2)))
True
>>> unvec(vec(X, order="col"), (2, 2), order="col").tolist()
[[1.0, 0.0], [0.0, 1.0]]
"""
from __future__ import annotations

import numbers

from ._types import Array
from ._validate import check_finite, check_int, namespace

ORDERS = ("row", "col")


def _check_order(order: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"order must be 'row' or 'col', got {order!r}")
    return order


def vec(X: Array, order: str = "row") -> Array:
    """Stack the entries of the 2-D array ``X`` into a vector, row by row (default) or column by column."""
    _check_order(order)
    xp = namespace(X=X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {tuple(X.shape)}")
    return xp.reshape(X if order == "row" else X.T, (-1,))


def unvec(x: Array, shape: int | tuple[int, int] | list[int], order: str = "row") -> Array:
    """Inverse of :func:`vec`: ``shape`` is ``(rows, cols)`` or an int ``d`` for a square ``d × d``."""
    _check_order(order)
    xp = namespace(x=x)
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        rows = cols = check_int("shape", shape, minimum=1)
    elif isinstance(shape, (tuple, list)) and len(shape) == 2:
        rows, cols = (check_int("shape", s, minimum=1) for s in shape)
    else:
        raise ValueError(f"shape must be (rows, cols) or an int d for d × d, got {shape!r}")
    if x.ndim != 1 or x.shape[0] != rows * cols:
        raise ValueError(f"x must be a vector of length {rows * cols} to unvec into {rows}×{cols}, "
                         f"got shape {tuple(x.shape)}")
    return xp.reshape(x, (rows, cols)) if order == "row" else xp.reshape(x, (cols, rows)).T


class KronOperator:
    """The matrix ``A1 ⊗ A2`` (order ``"row"``) or ``A2 ⊗ A1`` (order ``"col"``) as a linear operator
    on ``vec(X, order)``, ``X ∈ R^{d1×d2}``, without forming it: ``matvec`` costs two small matrix
    products, ``O(n1 d1 d2 + n1 n2 d2)``, instead of ``n1 n2 d1 d2``."""

    def __init__(self, A1: Array, A2: Array, order: str = "row") -> None:
        self.order = _check_order(order)
        self.xp = namespace(A1=A1, A2=A2)
        for name, a in (("A1", A1), ("A2", A2)):
            if a.ndim != 2 or 0 in a.shape:
                raise ValueError(f"{name} must be a non-empty 2-D array, got shape {tuple(a.shape)}")
        check_finite(self.xp, A1=A1, A2=A2)
        self.A1, self.A2 = A1, A2
        (n1, d1), (n2, d2) = A1.shape, A2.shape
        self.shape = (n1 * n2, d1 * d2)

    def matvec(self, x: Array) -> Array:
        """``vec(A1 X A2ᵀ, order)`` for ``x = vec(X, order)``."""
        X = unvec(x, (self.A1.shape[1], self.A2.shape[1]), self.order)
        return vec(self.A1 @ X @ self.A2.T, self.order)

    def rmatvec(self, y: Array) -> Array:
        """The transpose applied to ``y = vec(Y, order)``: ``vec(A1ᵀ Y A2, order)``."""
        Y = unvec(y, (self.A1.shape[0], self.A2.shape[0]), self.order)
        return vec(self.A1.T @ Y @ self.A2, self.order)

    def __matmul__(self, x: Array) -> Array:
        return self.matvec(x)

    def dense(self, max_entries: int = 2**24) -> Array:
        """The explicit matrix; refuses above ``max_entries`` entries (the tensor trick exists to avoid it)."""
        rows, cols = self.shape
        max_entries = check_int("max_entries", max_entries, minimum=1)
        if rows * cols > max_entries:
            raise ValueError(f"the dense Kronecker matrix would have {rows}×{cols} = {rows * cols} entries, "
                             f"above max_entries = {max_entries}; use matvec/rmatvec instead")
        xp = self.xp
        P, Q = (self.A1, self.A2) if self.order == "row" else (self.A2, self.A1)
        (p, r), (q, s) = P.shape, Q.shape
        return xp.reshape(xp.reshape(P, (p, 1, r, 1)) * xp.reshape(Q, (1, q, 1, s)), (p * q, r * s))

    def __repr__(self) -> str:
        kron = "A1 ⊗ A2" if self.order == "row" else "A2 ⊗ A1"
        return f"KronOperator({kron}, shape={self.shape}, order={self.order!r})"


def kron_operator(A1: Array, A2: Array, order: str = "row") -> KronOperator:
    """A matrix-free ``A1 ⊗ A2`` acting on ``vec(X, order)`` (``A2 ⊗ A1`` for ``order="col"``)."""
    return KronOperator(A1, A2, order)
