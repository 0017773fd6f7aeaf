r"""Symbols of the proofs: the parameters ``n, d, R``, symbolic matrices, and named quantities.

* ``n, d, R`` (positive) are the parameters every bound constant is written in (``Bound.constant()``);
  ``M`` (positive) is the radius of the logit box ``||s||_∞ ≤ M`` in the logit-space lemmas.
* :func:`matrix` and :func:`vector` build sympy matrices of real symbols at a concrete small size
  (``matrix("A", 3, 2)`` has entries ``A_00 … A_21``); identities are verified on them.
* :func:`quantity` makes a positive symbol that stands for a norm or a supremum in a bound chain
  (``quantity("‖u(x) − u(y)‖", r"\|u(x)-u(y)\|")``). The same text always gives the same symbol,
  so lemmas that cite each other speak of the same quantities. :data:`TEX` holds their LaTeX.
"""
from __future__ import annotations

import sympy as sp

n, d, R = sp.symbols("n d R", positive=True)
M = sp.Symbol("M", positive=True)

TEX: dict[sp.Symbol, str] = {}


def matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A ``rows × cols`` matrix of real symbols ``name_ij``."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def vector(name: str, size: int) -> sp.Matrix:
    """A column of real symbols ``name_i``."""
    return sp.Matrix(size, 1, lambda i, _: sp.Symbol(f"{name}_{i}", real=True))


def quantity(text: str, tex: str) -> sp.Symbol:
    """A non-negative quantity of a bound chain (a norm, a supremum), printed as ``text``."""
    q = sp.Symbol(text, positive=True)
    TEX[q] = tex
    return q


# Quantities shared by many lemmas (one symbol each, so citations line up).
norm_A = quantity("‖A‖", r"\|A\|")
norm_x = quantity("‖x‖", r"\|x\|")
norm_b = quantity("‖b‖", r"\|b\|")
dx = quantity("‖x − y‖", r"\|x-y\|")
dA = quantity("‖A − A′‖", r"\|A-A'\|")
ds = quantity("‖s − s′‖", r"\|s-s'\|")
dX = quantity("‖X − Y‖_F", r"\|X-Y\|_F")
dS = quantity("‖S − S′‖_F", r"\|S-S'\|_F")
norm_X = quantity("‖X‖_F", r"\|X\|_F")
norm_brows = quantity("max_j ‖b_j‖", r"\max_j\|b_j\|")
dA1 = quantity("‖A1 − A1′‖", r"\|A_1-A_1'\|")
dA2 = quantity("‖A2 − A2′‖", r"\|A_2-A_2'\|")
KRON = quantity("‖A1 ⊗ A2‖", r"\|A_1\otimes A_2\|")
N1, N2 = quantity("‖A1‖", r"\|A_1\|"), quantity("‖A2‖", r"\|A_2\|")

# The quantity each norm hypothesis "norm(T) <= R" bounds (for instantiating a lemma at R := ||T||).
NORM_OF = {"A": norm_A, "x": norm_x, "b": norm_b, "X": norm_X, "kron(A1,A2)": KRON, "A1": N1, "A2": N2}
