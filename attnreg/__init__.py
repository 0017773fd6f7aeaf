"""attnreg: make the theory of attention regression checkable.

The production path (this package) evaluates, for ``A1, A2 ∈ R^{n×d}``, ``B ∈ R^{n×n}``,
``X ∈ R^{d×d}``, the normalized loss ``½||D(X)⁻¹exp(A1XA2ᵀ) − B||_F²`` and the rescaled loss
``½||exp(A1XA2ᵀ) − D(X)B||_F²``, their gradients, Hessian-vector products and dense Hessians, in float64
(or any floating dtype) on any array-API library (numpy, torch, cupy, jax, array_api_strict).

Subpackages: :mod:`attnreg.vector` (one-row vector form), :mod:`attnreg.reference` (mpmath, any
precision), :mod:`attnreg.proofs` (sympy derivations), :mod:`attnreg.verify` (cross-validation registry).
Conventions: the ½ is ours (``objective = 2·loss``); ``vec`` is row-major, so
``vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(X)``.
"""
from importlib import metadata as _metadata

from . import icl, vector
from ._validate import VERSIONS
from .blocks import alpha, c, f, h, log_alpha, u
from .matrix import grad, hessian, hvp, log_loss, loss, loss_and_grad
from .solvers import SolveResult, solve
from .tensor import KronOperator, kron_operator, unvec, vec

try:  # the one version source is pyproject.toml, read back through the installed metadata
    __version__ = _metadata.version("attnreg")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"

__all__ = [
    "VERSIONS", "loss", "log_loss", "grad", "loss_and_grad", "hvp", "hessian",
    "u", "alpha", "log_alpha", "f", "c", "h", "vec", "unvec", "kron_operator", "KronOperator", "vector",
    "solve", "SolveResult", "icl",
]
