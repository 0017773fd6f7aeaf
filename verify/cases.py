"""Test inputs: seeded problem generators, Hypothesis strategies over them, and named stress cases.

A case is generated from a few parameters (sizes, the largest logit magnitude, the kind of target,
a seed) so that Hypothesis explores the parameters and every case can be named in a report and
re-created exactly (``make_matrix(**params)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

B_KINDS = ("simplex", "onehot", "zero", "real", "uniform", "realisable")


@dataclass(frozen=True)
class MatrixCase:
    A1: np.ndarray
    A2: np.ndarray
    B: np.ndarray
    X: np.ndarray
    label: str
    params: dict = field(default_factory=dict)

    @property
    def arrays(self):
        return self.A1, self.A2, self.B, self.X


@dataclass(frozen=True)
class VectorCase:
    A: np.ndarray
    b: np.ndarray
    x: np.ndarray
    label: str
    params: dict = field(default_factory=dict)

    @property
    def arrays(self):
        return self.A, self.b, self.x


def _targets(rng, kind, n_rows, n, F=None):
    if kind == "simplex":
        return rng.dirichlet(np.ones(n), size=n_rows)
    if kind == "onehot":
        return np.eye(n)[rng.integers(0, n, size=n_rows)]
    if kind == "zero":
        return np.zeros((n_rows, n))
    if kind == "real":
        return rng.standard_normal((n_rows, n))
    if kind == "uniform":
        return np.full((n_rows, n), 1.0 / n)
    if kind == "realisable":  # the row softmax itself, rounded to float64: the loss is ~0 there
        return F
    raise ValueError(f"unknown target kind {kind!r}")


def _softmax_rows(S):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def make_matrix(n: int, d: int, scale: float, kind: str, seed: int) -> MatrixCase:
    """Gaussian ``A1, A2, X``, with ``X`` scaled so that ``max |A1 X A2ᵀ| = scale``."""
    rng = np.random.default_rng(seed)
    A1, A2, X = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    top = np.abs(A1 @ X @ A2.T).max()
    X = X * (scale / top) if top > 0 else X
    B = _targets(rng, kind, n, n, F=_softmax_rows(A1 @ X @ A2.T))
    params = dict(n=n, d=d, scale=scale, kind=kind, seed=seed)
    return MatrixCase(A1, A2, B, X, f"n={n} d={d} max|S|={scale:g} B={kind} seed={seed}", params)


def make_vector(n: int, d: int, scale: float, kind: str, seed: int) -> VectorCase:
    """Gaussian ``A, x`` with ``x`` scaled so that ``max |Ax| = scale``."""
    rng = np.random.default_rng(seed)
    A, x = rng.standard_normal((n, d)), rng.standard_normal(d)
    top = np.abs(A @ x).max()
    x = x * (scale / top) if top > 0 else x
    b = _targets(rng, kind, 1, n, F=_softmax_rows((A @ x)[None, :]))[0]
    params = dict(n=n, d=d, scale=scale, kind=kind, seed=seed)
    return VectorCase(A, b, x, f"n={n} d={d} max|s|={scale:g} b={kind} seed={seed}", params)


def parameters(max_n=8, max_d=3, scales=(0.1, 1.0, 4.0, 20.0, 80.0)):
    """Hypothesis strategy for the keyword arguments of :func:`make_matrix` / :func:`make_vector`."""
    return st.fixed_dictionaries(dict(
        n=st.integers(1, max_n), d=st.integers(1, max_d), scale=st.sampled_from(scales),
        kind=st.sampled_from(B_KINDS), seed=st.integers(0, 2**32 - 1)))


def stress_matrix(version: str) -> list[MatrixCase]:
    """Named hard cases: large logits, degenerate targets, n = 1, d = 1, rows far below zero."""
    # exp overflows beyond 709.8: normalized values stay representable at any logit size; rescaled
    # ones up to about 2·max|S| = 700.
    big = 1000.0 if version == "normalized" else 330.0
    cases = [make_matrix(6, 2, big, "simplex", 1), make_matrix(5, 3, big, "onehot", 2),
             make_matrix(4, 2, 3.0, "zero", 3), make_matrix(5, 2, 3.0, "real", 4),
             make_matrix(1, 2, 5.0, "simplex", 5), make_matrix(1, 1, 2.0, "real", 6),
             make_matrix(6, 1, 10.0, "onehot", 7), make_matrix(7, 3, 2.0, "realisable", 8),
             make_matrix(7, 3, 40.0, "realisable", 9)]
    # Every logit near -800 (exp underflows to 0 without the shift): A1 = [1, a], A2 = [1, a'].
    rng = np.random.default_rng(10)
    n = 5
    A1 = np.column_stack([np.ones(n), rng.standard_normal(n)])
    A2 = np.column_stack([np.ones(n), rng.standard_normal(n)])
    X = np.array([[-800.0, 0.0], [0.0, 0.5]])
    B = _targets(rng, "simplex", n, n)
    cases.append(MatrixCase(A1, A2, B, X, "n=5 d=2 all logits ≈ -800 B=simplex", dict(n=5, d=2)))
    return cases


def stress_vector(version: str) -> list[VectorCase]:
    big = 1000.0 if version == "normalized" else 330.0
    cases = [make_vector(6, 2, big, "simplex", 1), make_vector(5, 3, big, "onehot", 2),
             make_vector(4, 2, 3.0, "zero", 3), make_vector(5, 2, 3.0, "real", 4),
             make_vector(1, 2, 5.0, "simplex", 5), make_vector(1, 1, 2.0, "real", 6),
             make_vector(7, 3, 2.0, "realisable", 8)]
    A = np.column_stack([np.ones(4), np.arange(4.0)])
    cases.append(VectorCase(A, np.full(4, 0.25), np.array([-800.0, 0.25]), "n=4 d=2 all logits ≈ -800 b=uniform"))
    return cases
