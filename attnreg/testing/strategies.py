"""Hypothesis strategies for attention-regression inputs, in the style of ``hypothesis.extra.numpy``.

>>> from hypothesis import given
>>> from attnreg.testing.strategies import problems
>>> @given(problems(form="vector", version="normalized", n=3, d=2, dtype="float32"))
... def test(p):
...     A, b, x = p.args
...     assert A.shape == (3, 2) and b.shape == (3,) and x.shape == (2,) and A.dtype.name == "float32"
>>> test()

Every argument is a value or a strategy. Entries of ``A1, A2, X`` (``A, x``) are dyadic numbers
``k/16`` with ``|k| ≤ 32`` (exact in every dtype, shrinking towards 0); ``X`` (``x``) is then scaled
by a power of two so that ``max|S|`` is ``logit_scale`` within a factor √2. Targets (``b_kind``):
``simplex`` (rows on the simplex, rounded to the dtype), ``onehot``, ``argmax`` (one-hot at the row
max), ``zero``, ``real`` (any real numbers), ``uniform``. Arrays come as NumPy arrays of ``dtype``
(bfloat16 through ``ml_dtypes``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnreg.verify.conformance.dtypes import NAMES, numpy_dtype

B_KINDS = ("simplex", "onehot", "argmax", "zero", "real", "uniform")
LOGIT_SCALES = (0.5, 2.0, 8.0, 30.0, 120.0)


@dataclass(frozen=True)
class Problem:
    form: str
    version: str | None
    args: tuple  # (A1, A2, B, X) or (A, b, x), NumPy arrays of the dtype
    dtype: str
    logit_scale: float
    b_kind: str

    @property
    def n(self) -> int:
        return self.args[0].shape[0]

    @property
    def d(self) -> int:
        return self.args[0].shape[1]


def _strategy(v):
    return v if isinstance(v, st.SearchStrategy) else st.just(v)


def _targets(draw, kind, S):
    rows, n = S.shape
    if kind == "simplex":
        W = draw(hnp.arrays(np.int64, (rows, n), elements=st.integers(0, 16))) + 1e-300
        return W / W.sum(axis=1, keepdims=True)
    if kind == "onehot":
        return np.eye(n)[draw(hnp.arrays(np.int64, rows, elements=st.integers(0, n - 1)))]
    if kind == "argmax":
        return np.eye(n)[S.argmax(axis=1)]
    if kind == "zero":
        return np.zeros((rows, n))
    if kind == "real":
        return draw(hnp.arrays(np.int64, (rows, n), elements=st.integers(-64, 64))) / 32
    if kind == "uniform":
        return np.full((rows, n), 1.0 / n)
    raise ValueError(f"b_kind must be one of {', '.join(B_KINDS)}, got {kind!r}")


def problems(*, form="matrix", version=None, n=st.integers(1, 8), d=st.integers(1, 4),
             logit_scale=st.sampled_from(LOGIT_SCALES), b_kind=st.sampled_from(B_KINDS), dtype="float64"):
    """Strategy for consistent inputs ``(A1, A2, B, X)`` (``form="matrix"``) or ``(A, b, x)`` (``"vector"``)."""
    if form not in ("matrix", "vector"):
        raise ValueError(f"form must be 'matrix' or 'vector', got {form!r}")
    if isinstance(dtype, str) and dtype not in NAMES:
        raise ValueError(f"dtype must be one of {', '.join(NAMES)}, got {dtype!r}")
    if isinstance(b_kind, str) and b_kind not in B_KINDS:
        raise ValueError(f"b_kind must be one of {', '.join(B_KINDS)}, got {b_kind!r}")
    return _problems(form, version, n, d, logit_scale, b_kind, dtype)


@st.composite
def _problems(draw, form, version, n, d, logit_scale, b_kind, dtype):
    dtype = draw(_strategy(dtype))
    if dtype not in NAMES:
        raise ValueError(f"dtype must be one of {', '.join(NAMES)}, got {dtype!r}")
    n, d, scale, kind = (draw(_strategy(v)) for v in (n, d, logit_scale, b_kind))
    entries = lambda shape: draw(hnp.arrays(np.int64, shape, elements=st.integers(-32, 32))) / 16  # noqa: E731
    if form == "matrix":
        A1, A2, X = entries((n, d)), entries((n, d)), entries((d, d))
        top = np.abs(A1 @ X @ A2.T).max()
        X = X * 2.0 ** round(np.log2(scale / top)) if top > 0 else X
        args = [A1, A2, _targets(draw, kind, A1 @ X @ A2.T), X]
    else:
        A, x = entries((n, d)), entries(d)
        top = np.abs(A @ x).max()
        x = x * 2.0 ** round(np.log2(scale / top)) if top > 0 else x
        args = [A, _targets(draw, kind, (A @ x)[None, :])[0], x]
    nd = numpy_dtype(dtype)
    return Problem(form, version, tuple(np.asarray(a, dtype=np.float64).astype(nd) for a in args), dtype,
                   float(scale), kind)
