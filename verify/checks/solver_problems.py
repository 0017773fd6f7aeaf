r"""Test problems for the solvers, and the identifiability family ``X → X + z wᵀ``.

* **realisable**: ``B = F(X*)`` (row softmax of ``A1 X* A2ᵀ``), so ``L_N(X*) = 0`` and, since then
  ``h = u − α F = 0``, also ``L_R(X*) = 0``. Data ``A1, A2 ~ N(0, 1)``, ``X* ~ N(0, 1/d²)`` so that the
  logits ``A1 X* A2ᵀ`` are ``N(0, 1)``-sized. Larger logits are a different problem for the rescaled
  loss: its rows weigh ``α_j²``, and with logits of size ~10 (``X* ~ N(0, 1/d)``, n = 59, d = 8,
  ``α_j`` from 83 to 3.5e7) Newton-CG from ``X* + 0.1·noise`` was seen to stop at a genuine local
  minimum (positive definite Hessian, ``L_R = 1.1e5``) at distance 0.97 from ``X*``.
  With ``n > d`` and generic data ``X ↦ F(X)`` is injective near ``X*``, so ``X*`` is the minimiser.
  Even at this scale the rescaled loss has spurious local minima reachable from ``X0 = 0``: Newton-CG
  recovered ``X*`` from 0 on 28 of 30 seeds (n = 24, d = 4; seed 3 stops at ``L_R = 220``, a minimum)
  and on 30 of 30 when started from the normalized solution. :func:`start` therefore starts the rescaled
  version near ``X*`` (the normalized one from 0): realisable checks test recovery, not global search.
* **non-realisable**: ``B = 0.7 F(X*) + 0.3 R`` with random stochastic rows ``R``.
* **family**: one column of ``A2`` is all ones, so ``A2 e_k = 1ₙ`` and ``F(X + z e_kᵀ) = F(X)``
  (every row of the logits moves by a constant): the normalized minimisers form a d-dimensional
  affine family and solutions agree only modulo ``{z wᵀ}`` (docs/design.md §2).
* **escape**: first columns of ``A1`` and ``A2`` all ones and non-realisable ``B``: along
  ``X = −t e₁e₁ᵀ`` the logits are ``−t`` everywhere, so ``L_R → 0`` as ``t → ∞``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import attnreg

from ..tolerances import tol


@dataclass
class Problem:
    A1: np.ndarray
    A2: np.ndarray
    B: np.ndarray
    X_star: np.ndarray | None
    kind: str


def _data(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d)) / d


def realisable(seed, n, d) -> Problem:
    _, A1, A2, Xs = _data(seed, n, d)
    return Problem(A1, A2, attnreg.f(A1, A2, Xs), Xs, "realisable")


def non_realisable(seed, n, d) -> Problem:
    rng, A1, A2, Xs = _data(seed, n, d)
    return Problem(A1, A2, 0.7 * attnreg.f(A1, A2, Xs) + 0.3 * rng.dirichlet(np.ones(n), size=n), Xs, "non-realisable")


def family(seed, n, d) -> Problem:
    rng, A1, A2, Xs = _data(seed, n, d)
    A2[:, int(rng.integers(d))] = 1.0
    return Problem(A1, A2, attnreg.f(A1, A2, Xs), Xs, "family")


def escape(seed, n, d) -> Problem:
    rng, A1, A2, _ = _data(seed, n, d)
    A1[:, 0] = A2[:, 0] = 1.0
    return Problem(A1, A2, rng.dirichlet(np.ones(n), size=n), None, "escape")


def vector_realisable(seed, n, d):
    """``(A, b = f(x*), x*)`` with ``A ~ N(0, 1)``, ``x* ~ N(0, 1/d)``."""
    rng = np.random.default_rng(seed)
    A, xs = rng.standard_normal((n, d)), rng.standard_normal(d) / np.sqrt(d)
    return A, attnreg.vector.f(A, xs), xs


def start(X_star, version, seed):
    """``X0`` for a realisable run: None (zeros) for normalized, ``X* + 0.05·N(0, 1/d²)`` for rescaled."""
    if version == "normalized":
        return None
    d = X_star.shape[0]
    return X_star + 0.05 * np.random.default_rng(seed + 1).standard_normal(X_star.shape) / d


def family_direction(A2, *, rtol=1e-10):
    """``w`` with ``A2 w = 1ₙ`` (least squares; residual ≤ ``rtol·√n``), or None when there is none."""
    n = A2.shape[0]
    w, *_ = np.linalg.lstsq(A2, np.ones(n), rcond=None)
    return w if np.linalg.norm(A2 @ w - 1.0) <= rtol * np.sqrt(n) else None



# ---- recovery of X* from the default start -------------------------------------------------------

RECOVERY_N, RECOVERY_D = (6, 8, 16, 40), (2, 3, 4)


def recovery(n, d, k) -> Problem:
    """Realisable problem number ``k`` of the recovery benchmark: ``A1, A2 ~ N(0, 1)`` (n × d),
    ``X* ~ N(0, 1)`` (d × d: logits of size ~d, ``α_j`` spread over many orders of magnitude),
    ``B = F(X*)``; seeded by ``(n, d, k)``."""
    rng = np.random.default_rng((n, d, k))
    A1, A2, Xs = rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    return Problem(A1, A2, attnreg.f(A1, A2, Xs), Xs, "realisable")


def reached(X, X_star) -> bool:
    """``||X − X*||_F ≤ tol·||X*||_F`` (verify/tolerances.py, "solve.recover.X")."""
    X = np.asarray(X.tolist() if hasattr(X, "tolist") and not isinstance(X, np.ndarray) else X, dtype=float)
    return bool(np.linalg.norm(X - X_star) <= tol("solve.recover.X").factor * np.linalg.norm(X_star))
