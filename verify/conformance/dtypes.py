"""Floating dtypes by name, for NumPy and the other array libraries.

float16 and bfloat16 are outside the array API standard: with torch installed, low-precision
arithmetic (the baseline's) runs in torch; otherwise NumPy with ``ml_dtypes`` (bfloat16 as a NumPy
dtype). :func:`provider` says which, and every report prints it.
"""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass

import numpy as np

NAMES = ("float64", "float32", "float16", "bfloat16")


def numpy_dtype(name: str):
    if name == "bfloat16":
        import ml_dtypes  # deferred: ml_dtypes, an optional dependency

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def provider(name: str) -> str:
    """Who does arithmetic in dtype ``name`` for the baseline: "numpy", "torch" or "numpy+ml_dtypes"."""
    if name in ("float64", "float32"):
        return "numpy"
    return "torch" if importlib.util.find_spec("torch") else ("numpy" if name == "float16" else "numpy+ml_dtypes")


@dataclass(frozen=True)
class Unit:
    u: float  # unit roundoff
    tiny: float  # smallest normal
    max: float
    ln_max: float  # exp overflows past this


def unit(name: str) -> Unit:
    import ml_dtypes  # deferred: ml_dtypes, an optional dependency

    info = ml_dtypes.finfo(numpy_dtype(name)) if name == "bfloat16" else np.finfo(numpy_dtype(name))
    big = float(info.max)
    return Unit(float(info.eps) / 2, float(info.smallest_normal), big, math.log(big))


def exact_in(a: np.ndarray, name: str) -> bool:
    """Every entry of the float64 array ``a`` is a number of dtype ``name``."""
    with np.errstate(all="ignore"):
        return bool(np.array_equal(np.asarray(a, dtype=numpy_dtype(name)).astype(np.float64), a))
