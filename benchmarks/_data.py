"""Benchmark problems on a dyadic grid, so that ``S = A1 X A2ᵀ`` is exact in float64.

``A1, A2`` have entries ``m·2⁻⁸`` with ``|m| ≤ 2⁸`` (about N(0, 1/d)), ``X`` and the HVP direction ``V``
entries ``m·2⁻⁶`` with ``|m| ≤ 2⁹`` (about N(0, 1)), so the logits have standard deviation about 1.
Then ``W = X A2ᵀ`` is an integer multiple of 2⁻¹⁴ below 2²⁵·2⁻¹⁴ and ``S = A1 W`` one of 2⁻²² below
2⁴¹·2⁻²² (for ``d ≤ 256``): every partial sum is an integer below 2⁵³ in those units, so any float64
summation order gives ``S`` exactly. The extended-precision arbiter (``_arbiter``) starts from that exact
``S``. The inputs are exact in float32 too, except ``B`` (Dirichlet rows), which each dtype rounds; the
arbiter always gets the rounded ``B`` the contenders got.
"""
from __future__ import annotations

import numpy as np

A_BITS, A_SCALE = 8, 2.0**8   # |A·2⁸| ≤ 2⁸
X_BITS, X_SCALE = 9, 2.0**6   # |X·2⁶| ≤ 2⁹
MAX_D = 256


def _grid(rng, shape, scale, bits, sd):
    return np.clip(np.round(rng.standard_normal(shape) * sd * scale), -2.0**bits, 2.0**bits) / scale


def problem(n: int, d: int, dtype: str = "float64", seed: int = 0) -> dict:
    """``{"A1", "A2", "B", "X", "V"}`` as C-contiguous NumPy arrays of ``dtype`` (deterministic in the seed)."""
    if d > MAX_D:
        raise ValueError(f"d must be at most {MAX_D} for the exact-logit benchmark data, got {d}")
    rng = np.random.default_rng([seed, n, d])
    arrays = {
        "A1": _grid(rng, (n, d), A_SCALE, A_BITS, d**-0.5),
        "A2": _grid(rng, (n, d), A_SCALE, A_BITS, d**-0.5),
        "X": _grid(rng, (d, d), X_SCALE, X_BITS, 1.0),
        "V": _grid(rng, (d, d), X_SCALE, X_BITS, 1.0),
        "B": rng.dirichlet(np.ones(n), size=n),
    }
    return {k: np.ascontiguousarray(a, dtype=dtype) for k, a in arrays.items()}
