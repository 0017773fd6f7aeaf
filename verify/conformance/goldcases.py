"""The exact inputs of the golden cases, re-created from a name and a seed.

Most inputs are dyadic numbers with at most 8 significant bits (``k / 2^m``, ``|k| < 256``), exactly
representable in float64, float32, float16 and bfloat16, so one gold serves every dtype; cases marked
``float64`` use full float64 inputs. Logits of a stated size come from scaling ``X`` by a power of two
(which keeps the inputs dyadic), so ``max|S|`` is the stated size within a factor √2.

Targets: ``simplex`` (rows of dyadic numbers summing to 1 exactly), ``onehot``, ``zero``, ``real``
(non-simplex), ``argmax`` (one-hot at each row's largest logit: the rescaled loss stays small while
``exp`` of that logit overflows).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spec:
    id: str
    form: str  # "matrix" | "vector"
    n: int
    d: int
    scale: float  # about max|S|
    target: str
    seed: int
    exact64: bool = False  # full float64 inputs (only the float64 runs can use the case)
    layout: str = "gaussian"  # "gaussian" | "saturated" (row max with a gap) | "mixed" (some rows saturated)
    note: str = ""


def _dyadic(rng, shape, bits=5):
    return rng.integers(-(2**bits), 2**bits + 1, size=shape) / 2.0**(bits - 1)


def _simplex(rng, rows, n):
    W = rng.dirichlet(np.ones(n), size=rows)
    K = np.floor(W * 256)
    K[np.arange(rows), K.argmax(axis=1)] += 256 - K.sum(axis=1)
    return K / 256


def _targets(rng, kind, S):
    rows, n = S.shape
    if kind == "simplex":
        return _simplex(rng, rows, n)
    if kind == "onehot":
        return np.eye(n)[rng.integers(0, n, size=rows)]
    if kind == "argmax":
        return np.eye(n)[S.argmax(axis=1)]
    if kind == "zero":
        return np.zeros((rows, n))
    if kind == "real":
        return rng.integers(-127, 128, size=(rows, n)) / 64
    raise ValueError(f"unknown target kind {kind!r}")


def _scale_to(M, S, scale):
    top = np.abs(S).max()
    return M if top == 0 else M * 2.0 ** round(np.log2(scale / top))


def _layout(rng, spec):
    n, d = spec.n, spec.d
    if spec.layout == "gaussian":
        draw = (lambda shape: rng.standard_normal(shape)) if spec.exact64 else _dyadic.__get__(rng)
        return draw((n, d)), draw((n, d)), draw((d, d))
    # Saturated rows: S_jk = L·sat_j·[k = 0] + small, with A1 = [sat, a], A2 = [e_0, a'], X = diag(L, 1/4).
    # Negative: every logit ≈ −L (A2 = [1, a'], X = diag(−L, 1/4)): exp underflows without a shift.
    sat = (np.arange(n) % 2 == 0).astype(float) if spec.layout == "mixed" else np.ones(n)
    first = np.ones(n) if spec.layout == "negative" else np.eye(n)[0]
    big = 2.0 ** round(np.log2(spec.scale)) * (-1 if spec.layout == "negative" else 1)
    A1 = np.column_stack([sat, _dyadic(rng, (n, d - 1))])
    A2 = np.column_stack([first, _dyadic(rng, (n, d - 1))])
    X = np.diag([big] + [0.25] * (d - 1))
    return A1, A2, X


def matrix_inputs(spec: Spec):
    rng = np.random.default_rng(spec.seed)
    A1, A2, X = _layout(rng, spec)
    if spec.layout == "gaussian":
        X = _scale_to(X, A1 @ X @ A2.T, spec.scale)
    B = _targets(rng, spec.target, A1 @ X @ A2.T)
    if spec.exact64 and spec.target == "simplex":
        B = rng.dirichlet(np.ones(spec.n), size=spec.n)
    if spec.exact64 and spec.target == "real":
        B = rng.standard_normal((spec.n, spec.n))
    return {"A1": A1, "A2": A2, "B": B, "X": X}


def vector_inputs(spec: Spec):
    rng = np.random.default_rng(spec.seed + 1)
    if spec.layout == "gaussian":
        draw = (lambda shape: rng.standard_normal(shape)) if spec.exact64 else _dyadic.__get__(rng)
        A, x = draw((spec.n, spec.d)), draw(spec.d)
        x = _scale_to(x, A @ x, spec.scale)
    else:  # the one row of the matrix layout: s = ±L·(first column of A2) + small
        _, A, X = _layout(rng, spec)
        A, x = A, np.diag(X).copy()
    b = _targets(rng, spec.target, (A @ x)[None, :])[0]
    if spec.exact64 and spec.target == "simplex":
        b = rng.dirichlet(np.ones(spec.n))
    if spec.exact64 and spec.target == "real":
        b = rng.standard_normal(spec.n)
    return {"A": A, "b": b, "x": x}


def inputs(spec: Spec):
    return matrix_inputs(spec) if spec.form == "matrix" else vector_inputs(spec)


def _both(id_, n, d, scale, target, seed, **kw):
    return [Spec(f"matrix-{id_}", "matrix", n, d, scale, target, seed, **kw),
            Spec(f"vector-{id_}", "vector", n, d, scale, target, seed, **kw)]


SPECS: list[Spec] = [
    *_both("small", 4, 2, 2.0, "simplex", 1, note="small n and d"),
    *_both("n1", 1, 3, 3.0, "onehot", 2, note="n = 1: the softmax is 1, the normalized loss and gradient vanish"),
    *_both("d1", 6, 1, 2.0, "real", 3, note="d = 1"),
    *_both("onehot", 8, 3, 6.0, "onehot", 4, note="one-hot targets"),
    *_both("zero", 5, 2, 3.0, "zero", 5, note="zero target"),
    *_both("real", 6, 2, 2.0, "real", 6, note="real-valued (non-simplex) target"),
    *_both("float64", 12, 4, 3.0, "simplex", 7, exact64=True, note="full float64 inputs"),
    *_both("float64-real", 9, 3, 5.0, "real", 8, exact64=True, note="full float64 inputs, non-simplex target"),
    *_both("logit8", 8, 2, 8.0, "simplex", 9, note="max|S| ≈ 8: below float16's exp overflow (11.09)"),
    *_both("logit30", 8, 2, 30.0, "simplex", 10, note="max|S| ≈ 30: past float16's exp overflow"),
    *_both("logit120", 8, 2, 120.0, "onehot", 11, note="max|S| ≈ 120: past float32's exp overflow (88.7)"),
    *_both("logit900", 6, 2, 900.0, "simplex", 12, note="max|S| ≈ 900: past float64's exp overflow (709.8)"),
    *_both("sat128", 6, 2, 128.0, "argmax", 13, layout="saturated",
           note="every row saturated (gap 128), one-hot at the max: float32 exp overflows, the rescaled loss is small"),
    *_both("sat1024", 5, 2, 1024.0, "argmax", 14, layout="saturated",
           note="every row saturated (gap 1024), one-hot at the max: "
                "float64 exp overflows, the rescaled loss is small"),
    *_both("mixed", 8, 3, 512.0, "argmax", 15, layout="mixed",
           note="mixed rows: half saturated (gap 512), half with logits ≈ 1"),
    *_both("negative", 5, 2, 800.0, "simplex", 16, layout="negative",
           note="every logit ≈ −512: exp underflows to 0 in every dtype without a shift"),
    *_both("large", 64, 8, 4.0, "simplex", 17, note="larger n and d"),
    Spec("matrix-larger", "matrix", 128, 4, 3.0, "simplex", 18, note="n = 128"),
    Spec("vector-larger", "vector", 256, 8, 3.0, "simplex", 18, note="n = 256"),
]


def by_id() -> dict[str, Spec]:
    return {s.id: s for s in SPECS}
