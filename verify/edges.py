r"""Inputs at the numerical edges: deterministic generators and Hypothesis strategies.

An edge case is given directly by its logits ``S`` (k × n) and targets ``B`` (k × n): the matrix form
runs it with ``A1 = A2 = I_n`` and ``X = S`` (so ``S = A1 X A2ᵀ`` is exact and the gradient in ``X`` is
``P`` itself), the vector form with ``A = I_n`` and ``x = s`` for each row. The classes:

* ``saturated``      one logit ``gap`` above the others (``f_k = 1`` to the last bit when ``gap ≳ 37``);
* ``onehot_argmax``  saturated, target one-hot on the argmax: residual ``f_k − 1 = −Σ_{j≠k} f_j``;
* ``onehot_off``     saturated, target one-hot on another entry;
* ``mixed``          rows of very different size in one problem: one row shifted by ``top`` (up to and
                     beyond ``exp``'s overflow point) next to ordinary rows (the rescaled common scale);
* ``gap``            two-level rows ``[top, top − gap, …]`` with gaps from 30 to beyond the dtype's overflow
                     point (``log(max)``), at several magnitudes ``top``;
* ``deep``           rows whose true value needs many digits of cancellation in the definitions
                     (``1 − f_k`` at ``e^{−gap}``, ``u_k − α`` for a one-hot target at ``|S| ≥ 300``).

Every case carries a name that re-creates it (``make(**params)``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

KINDS = ("saturated", "onehot_argmax", "onehot_off", "mixed", "gap", "deep")


@dataclass(frozen=True)
class EdgeCase:
    S: np.ndarray
    B: np.ndarray
    label: str
    params: dict = field(default_factory=dict)

    def matrix(self, dtype=np.float64):
        """``(A1, A2, B, X)`` with ``A1 = A2 = I_n`` and ``X = S`` (the matrix form's S is n × n)."""
        n = self.S.shape[1]
        eye = np.eye(n, dtype=dtype)
        return eye, eye.copy(), self.B.astype(dtype), self.S.astype(dtype)


def overflow_point(dtype) -> float:
    """``log(max)`` of the dtype: the logit where ``exp`` overflows (709.78 for float64, 88.72 for float32)."""
    return math.log(float(np.finfo(dtype).max))


def _row(rng, n, top, gap):
    """``[top, top − gap − r_1, …]`` with small random offsets ``r`` (the argmax first, then shuffled)."""
    rest = top - gap - rng.uniform(0, 3, size=n - 1)
    s = np.concatenate([[top], rest])
    return s[rng.permutation(n)]


def _target(rng, s, kind):
    n = s.size
    if kind == "onehot_argmax":
        return np.eye(n)[int(np.argmax(s))]
    if kind == "onehot_off":
        return np.eye(n)[(int(np.argmax(s)) + 1 + int(rng.integers(n - 1))) % n]
    return rng.dirichlet(np.ones(n))


def make(kind: str, n: int, gap: float, top: float, seed: int, rows: int | None = None) -> EdgeCase:
    """One edge case of class ``kind`` (module docstring) with ``rows`` (default ``n``, as the matrix form
    needs) rows of length ``n ≥ 2``."""
    rng = np.random.default_rng(seed)
    rows = n if rows is None else rows
    S, B = [], []
    for j in range(rows):
        if kind == "mixed" and j > 0:  # ordinary rows beside the huge one
            s = rng.uniform(-2, 2, size=n)
            b = rng.dirichlet(np.ones(n))
        else:
            s = _row(rng, n, top, gap)
            target = {"saturated": "simplex", "gap": "simplex", "mixed": "onehot_argmax",
                      "deep": ("onehot_argmax", "onehot_off")[j % 2]}.get(kind, kind)
            b = _target(rng, s, target)
        S.append(s)
        B.append(b)
    params = dict(kind=kind, n=n, gap=gap, top=top, seed=seed, rows=rows)
    label = f"{kind} n={n} gap={gap:g} top={top:g} rows={rows} seed={seed}"
    return EdgeCase(np.array(S), np.array(B), label, params)


def gaps(dtype) -> tuple:
    """Logit gaps from 30 to beyond the dtype's overflow point."""
    o = overflow_point(dtype)
    return (30.0, 37.0, round(o / 2, 1), round(o - 1, 1), round(o + 1, 1), round(1.5 * o, 1))


def deterministic(dtype=np.float64, tier: str = "quick") -> list[EdgeCase]:
    """The named edge cases of the quick tier (one per class and a few gaps), more for ``slow``."""
    o = overflow_point(dtype)
    out = [make("saturated", 3, 40.0, 0.0, 1), make("onehot_argmax", 3, 37.0, 5.0, 2),
           make("onehot_off", 4, 60.0, -3.0, 3), make("mixed", 2, 2 * o / 3, 0.57 * o, 4),
           make("gap", 2, gaps(dtype)[3], 0.0, 5), make("deep", 3, o / 2.4, 0.0, 6)]
    if tier == "slow":
        for i, g in enumerate(gaps(dtype)):
            for top in (0.0, o / 2, 1.2 * o):
                out.append(make("gap", 3, g, top, 100 + i))
                out.append(make("onehot_argmax", 3, g, top, 200 + i))
        for i, top in enumerate((o / 2, 0.9 * o, 1.1 * o, 2 * o)):
            out.append(make("mixed", 3, top, top, 300 + i))
    return out


def strategy(dtype=np.float64, max_n: int = 5):
    """Hypothesis strategy over :func:`make`'s parameters, aimed at the edges of ``dtype``."""
    o = overflow_point(dtype)
    return st.builds(make, kind=st.sampled_from(KINDS), n=st.integers(2, max_n),
                     gap=st.sampled_from(gaps(dtype)) | st.floats(30.0, 2 * o),
                     top=st.sampled_from((0.0, -o / 2, o / 2, 1.1 * o)) | st.floats(-2 * o, 2 * o),
                     seed=st.integers(0, 2**32 - 1))
